"""`durable doctor` explains a state dir without writing; `dev --durability` picks the level."""

from __future__ import annotations

import json
import os

from cli_support import Project, state_bytes


def test_doctor_on_a_healthy_dir_with_queued_work(project: Project):
    project.send("nothing/listens")
    before = state_bytes(project.state)
    done = project.cli("doctor")
    assert done.returncode == 0, done.stderr
    assert "healthy" in done.stdout and "1 queued event" in done.stdout
    findings = json.loads(project.ok("doctor", "--json"))
    assert {f["code"] for f in findings} >= {"schema", "integrity", "healthy"}
    assert state_bytes(project.state) == before


def test_doctor_names_what_is_broken_and_exits_1(project: Project):
    project.send("nothing/listens")
    db = project.state / "cache.db"
    with open(db, "r+b") as fh:
        fh.write(b"garbage garbage!")  # the SQLite header
    before = state_bytes(project.state)
    done = project.cli("doctor")
    assert done.returncode == 1
    assert "FAIL" in done.stdout and str(db) in done.stdout
    assert state_bytes(project.state) == before


def test_dev_durability_full_is_recorded_for_senders(project: Project):
    project.add("docs.py")
    project.run_until_idle("--durability", "full")
    findings = json.loads(project.ok("doctor", "--json"))
    (level,) = [f["message"] for f in findings if f["code"] == "durability"]
    assert "full" in level


def test_dev_rejects_an_unknown_durability(project: Project):
    project.add("docs.py")
    done = project.cli("dev", "--headless", "--until-idle", "--durability", "sometimes")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "sometimes" in done.stderr
    assert not os.path.exists(project.state)
