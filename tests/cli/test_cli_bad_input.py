"""Bad input: exit 2, one line on stderr, no traceback, and nothing written."""

from __future__ import annotations

import json
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
from cli_support import Project, state_bytes, state_snapshot
from helpers import wait_until


def _assert_refused(done, *needles: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert done.stdout == ""


def _in_parallel(project, commands: list[list[str]]) -> list:
    """Run independent commands side by side (they only read, or are refused)."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda args: project.cli(*args), commands))


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    """A state dir holding one completed run, made once for this module; and that run's id."""
    maker = Project(tmp_path_factory.mktemp("journal"))
    maker.add("docs.py")
    maker.send("api/document.uploaded", {"document_id": "d-1"})
    maker.run_until_idle()
    return maker.state, maker.json("runs")[0]["id"]


@pytest.fixture
def used(project, journal):
    """A project with a copy of that state dir."""
    state, run_id = journal
    project.add("docs.py")
    shutil.copytree(state, project.state, ignore=shutil.ignore_patterns("wake"))  # a FIFO
    project.run_id = run_id
    return project


BAD_SENDS = {
    "invalid JSON": (["--data", '{"a": 1'], "invalid JSON"),
    "missing file": (["--data", "no-such-file.json"], "no such file"),
    "JSON that is not an object": (["--data", "[1, 2]"], "JSON object"),
    "a JSON string": (["--data", '"text"'], "JSON object"),
    "oversize payload": (["--data", "big.json"], "limit"),
    "bad --id": (["--id", "has space/slash"], "event id"),
}


@pytest.mark.parametrize("case", sorted(BAD_SENDS))
def test_bad_send_writes_nothing(used, case):
    args, needle = BAD_SENDS[case]
    (used.root / "big.json").write_text(json.dumps({"blob": "x" * 600_000}))
    before = state_snapshot(used.state)
    _assert_refused(used.cli("send", "api/document.uploaded", *args), needle)
    assert state_snapshot(used.state) == before


@pytest.mark.parametrize("name", ["", "  ", "has space", "/leading-slash"])
def test_bad_event_names_are_refused_before_a_state_dir_exists(project, name):
    _assert_refused(project.cli("send", name), "event name")
    assert not project.state.exists()


def test_send_reads_stdin_and_refuses_bad_stdin(project):
    _assert_refused(project.cli("send", "a/b", "--data", "-", input="{nope"), "stdin")
    assert not project.state.exists()
    assert project.cli("send", "a/b", "--data", "-", input='{"ok": true}').returncode == 0


def test_unknown_run_and_step_ids(used):
    before = state_snapshot(used.state)
    cases = [
        (["show", "01NOSUCHRUN"], "no run"),
        (["replay", "01NOSUCHRUN"], "no run"),
        (["cancel", "01NOSUCHRUN"], "no run"),
        (["replay", used.run_id, "--from", "no-such-step"], "no step"),
        (["fail", "classify-document", "--run", "01NOSUCHRUN"], "no run"),
        (["fail", "bad/step", "--function", "process-uploaded-document"], "step id"),
        (["fail", "classify-document", "--function", "no-such-function"], "no function"),
        (["fail", "classify-document"], "--run"),
        (["fail", "x", "--function", "process-uploaded-document", "--times", "0"], "--times"),
        (["cancel", used.run_id], "already completed"),
        (["runs", "--status", "exploded"], "status"),
        (["runs", "--limit", "0"], "--limit"),
        (["send"], "Missing argument"),
        (["send", "a/b", "--frobnicate"], "--frobnicate"),
        (["no-such-command"], "no-such-command"),
    ]
    results = _in_parallel(used, [args for args, _ in cases])
    for (_, needle), done in zip(cases, results, strict=True):
        _assert_refused(done, needle)
    assert state_snapshot(used.state) == before


def test_read_commands_never_create_a_state_dir(project):
    for args in (["show", "01ABC"], ["replay", "01ABC"], ["cancel", "01ABC"]):
        _assert_refused(project.cli(*args), "nothing has run yet")
    assert project.json("runs") == []
    assert project.ok("runs") == "no runs yet"
    assert not project.state.exists()


def test_broken_workflow_file_names_file_and_line(project):
    (project.root / "broken.py").write_text("import durable_cli\n\nx = 1 +\n")
    (project.root / "raises.py").write_text("import durable_cli\n\n\nraise RuntimeError('no db')\n")
    _assert_refused(project.cli("dev", "--headless", "broken.py"), "broken.py:3:", "SyntaxError")
    _assert_refused(project.cli("dev", "--headless", "raises.py"), "raises.py:4:", "no db")
    _assert_refused(project.cli("functions", "raises.py"), "raises.py:4:")
    assert not project.state.exists()


def test_function_id_clash_is_a_load_error(project):
    project.add("docs.py", configure=False)
    (project.root / "twin.py").write_text((project.root / "docs.py").read_text())
    _assert_refused(project.cli("dev", "--headless", "docs.py", "twin.py"), "defined twice")
    assert not project.state.exists()


def test_dev_without_paths_says_how_to_name_them(project):
    _assert_refused(project.cli("dev", "--headless"), "pyproject.toml", "[tool.durable]")
    assert not project.state.exists()


def test_state_dir_of_another_schema_version_is_left_untouched(used):
    con = sqlite3.connect(used.state / "cache.db")
    con.execute("UPDATE Cache SET value = ? WHERE key = 'meta/schema'", (b'{"version": 99}',))
    con.commit()
    con.close()
    before = state_bytes(used.state)
    commands = [
        ["send", "api/document.uploaded"],
        ["dev", "--headless", "--until-idle"],
        ["runs"],
        ["show", used.run_id],
        ["replay", used.run_id],
        ["cancel", used.run_id],
        ["fail", "classify-document", "--function", "process-uploaded-document"],
    ]
    for done in _in_parallel(used, commands):
        _assert_refused(done, "schema version 99")
    assert state_bytes(used.state) == before


def test_second_runner_names_the_process_holding_the_state_dir(used):
    first = used.dev("--no-watch")
    wait_until(lambda: "durable dev:" in first.stderr, what="the first runner's banner")
    done = used.cli("dev", "--headless", "--until-idle", "--no-watch")
    _assert_refused(done, f"process {first.proc.pid}", "already running")
    done = used.cli("worker", "--until-idle")  # a worker is refused the same way, and told so
    _assert_refused(done, f"process {first.proc.pid}", "already running", "durable worker")
