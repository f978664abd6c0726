"""An injected failure's life cycle from the command line: listed, cleared, reported by doctor."""

from __future__ import annotations

import json

import pytest
from cli_support import state_snapshot

FN = "process-uploaded-document"


def _refused(done, *needles: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert done.stdout == ""


def _classify(project, run_id: str) -> dict:
    steps = project.json("show", run_id)["steps"]
    return next(s for s in steps if s["id"] == "classify-document")


def test_an_every_attempt_failure_is_listed_and_can_be_cleared(project):
    project.add("docs.py")
    assert project.json("fail", "--list") == []
    assert project.ok("fail", "--list") == "no injected failures pending"

    said = project.ok("fail", "classify-document", "--function", FN, "--times", "-1",
                      "--message", "model down")  # fmt: skip
    undo = said.splitlines()[-1]
    assert undo == f"undo: durable fail classify-document --function {FN} --clear"

    listed = project.json("fail", "--list")
    assert listed == [
        {
            "step": "classify-document",
            "run": None,
            "function": FN,
            "times": -1,
            "every_attempt": True,
            "remaining": "every attempt",
            "message": "model down",
        }
    ]
    table = project.ok("fail", "--list")
    assert "classify-document" in table and f"every run of {FN}" in table
    assert "every attempt" in table and "model down" in table

    # every run fails while it is pending...
    project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle("--idle-wait", "1")
    first = project.json("runs")[0]["id"]
    assert project.json("show", first)["status"] == "failed"
    assert project.calls("classify-document") == 0

    # ...and the undo command, run as printed, ends it
    removed = project.ok(*undo.removeprefix("undo: durable ").split())
    assert removed.startswith("removed: classify-document")
    assert project.json("fail", "--list") == []
    project.send("api/document.uploaded", {"document_id": "d-2"})
    project.run_until_idle()
    second = project.json("runs")[0]["id"]
    assert second != first
    assert project.json("show", second)["status"] == "completed"
    assert project.calls("classify-document") == 1


def test_clearing_reaches_a_runner_that_is_up(project):
    project.add("patient.py")
    project.ok("fail", "work", "--function", "patient", "--times", "-1")
    runner = project.dev("--no-watch")
    project.send("test/patient")
    runner.wait_for_line(lambda line: " work " in line and " retrying" in line)

    # the retry is seconds away (a slow machine may let one more attempt fail: a retry is left)
    project.ok("fail", "work", "--function", "patient", "--clear")
    # left in the runner's copy, the failure would fail all four attempts and the run with them
    runner.wait_for_line(
        lambda line: " -  " in line and (" completed" in line or " failed" in line), timeout=60
    )
    run_id = project.json("runs")[0]["id"]
    assert project.json("show", run_id)["status"] == "completed"
    assert project.calls("work") == 1


def test_a_run_scoped_failure_shows_in_show_and_clear_all_removes_everything(project):
    project.add("flaky.py")
    project.send("test/fail", {"delay": 30})
    project.run_until_idle()  # boom failed once; its retry is 30 s away
    run_id = project.json("runs")[0]["id"]
    project.ok("fail", "boom", "--run", run_id[:10], "--times", "2")
    project.ok("fail", "boom", "--function", "always-fails")

    pending = project.json("show", run_id)["pending_failures"]
    assert {(p["run"], p["function"], p["times"]) for p in pending} == {
        (run_id, None, 2),
        (None, "always-fails", 1),
    }
    assert "next 2 attempts" in project.ok("fail", "--list")

    out = project.ok("fail", "--clear-all").splitlines()
    assert len(out) == 2 and all(line.startswith("removed: boom") for line in out)
    assert project.json("fail", "--list") == []
    assert project.json("show", run_id)["pending_failures"] == []
    # nothing left to clear is not an error for --clear-all: it says so
    assert project.ok("fail", "--clear-all") == "no injected failures were pending"


def test_doctor_mentions_failures_left_pending(project):
    project.add("docs.py")
    project.ok("fail", "save-results", "--function", FN, "--times", "-1")
    findings = json.loads(project.cli("doctor", "--json").stdout)
    found = [f for f in findings if f["code"] == "injected-failures"]
    assert len(found) == 1, findings
    assert found[0]["level"] == "warning"
    assert "save-results" in found[0]["message"] and "every attempt" in found[0]["message"]
    assert "durable fail --clear-all" in found[0]["hint"]

    project.ok("fail", "--clear-all")
    findings = json.loads(project.cli("doctor", "--json").stdout)
    assert not [f for f in findings if f["code"] == "injected-failures"]


def test_fail_help_says_how_to_undo(project):
    text = project.ok("fail", "--help")
    for needle in ("--clear", "--clear-all", "--list", "Undo"):
        assert needle in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["classify-document", "--function", FN, "--clear"], "no injected failure is pending"),
        (["classify-document", "--function", "other", "--clear"], f"every run of {FN}"),
        (["classify-document", "--function", FN, "--clear", "--times", "2"], "--times"),
        (["classify-document", "--clear"], "--run"),
        (["--clear"], "which step"),
        (["--list", "classify-document"], "STEP_ID"),
        (["--list", "--function", FN], "--function"),
        (["--clear-all", "--message", "x"], "--message"),
        (["--list", "--clear-all"], "one of"),
        (["classify-document", "--function", FN, "--json"], "--json"),
        (["classify-document", "--run", "01NOSUCHRUN", "--clear"], "no run"),
    ],
)
def test_bad_fail_life_cycle_input_is_refused_and_writes_nothing(project, args, needle):
    project.add("docs.py")
    project.send("api/document.uploaded", {"document_id": "d-1"})  # a journal to compare
    if "other" in args:  # something pending, in another scope than the one asked for
        project.ok("fail", "classify-document", "--function", FN)
    before = state_snapshot(project.state)
    _refused(project.cli("fail", *args), needle)
    assert state_snapshot(project.state) == before
