"""`diagnose(path)`: what a state dir holds and what is wrong with it, changing nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers import wait_until
from state_support import DURABLE, FLOW, build_state, fingerprint, value_files

from durable_cli.cli._doctor import exit_code, format_findings
from durable_cli.store import diagnose


def _codes(findings, level: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.code for f in findings if f.level == level}


def test_a_healthy_state_dir_is_reported_healthy_and_left_untouched(tmp_path: Path):
    state = tmp_path / "state"
    build_state(state)
    before = fingerprint(state)
    found = diagnose(str(state))
    assert fingerprint(state) == before  # not even SQLite's -wal/-shm files appeared
    assert _codes(found, "error") == _codes(found, "warning") == set()
    assert {"schema", "integrity", "healthy"} <= _codes(found, "ok")
    (contents,) = [f for f in found if f.code == "contents"]
    assert contents.message == "1 run(s): 1 completed; 1 event(s) queued"
    assert exit_code(found) == 0
    text = "\n".join(format_findings(found))
    assert "ok    integrity: SQLite integrity check passed" in text


def test_problems_are_errors_or_warnings_each_with_a_hint(tmp_path: Path):
    state = tmp_path / "state"
    build_state(state)
    (state / "ab").mkdir(mode=0o700)
    (state / "ab" / "cd").mkdir(mode=0o700)
    (state / "ab" / "cd" / "stray.val").write_bytes(b"{}")  # no row refers to it
    (state / "ab" / "cd" / "stray.val").chmod(0o600)
    (state / ".init-x1y2z3").mkdir()  # a creator died half-way
    next(f for f in value_files(state) if b"x" * 1000 in f.read_bytes()).unlink()
    found = diagnose(str(state))
    assert _codes(found, "error") == {"value-file-missing"}
    assert _codes(found, "warning") == {"orphan-value-files", "creation-leftover"}
    assert all(f.hint for f in found if f.level in ("warning", "error"))
    assert exit_code(found) == 1


def test_unfinished_runs_and_a_live_runner_are_explained(tmp_path: Path):
    state = tmp_path / "state"
    crash = (
        "import os, signal, sys\n"
        "from durable_cli.store import open_store, RunRecord\n"
        "s = open_store(sys.argv[1])\n"
        "s.create_runs([RunRecord(id='01RUN', function='big', event={}, status='running')])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", crash, str(state)], timeout=30)
    found = diagnose(str(state))
    assert "1 running" in next(f.message for f in found if f.code == "contents")
    assert any(f.code == "unfinished" for f in found)
    assert any(f.code == "wal" for f in found)  # a killed writer's WAL, applied on next open
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
    runner = subprocess.Popen(
        [str(DURABLE), "dev", "--headless", "--no-watch", "--state-dir", str(state), str(FLOW)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: any("is up" in f.message for f in diagnose(str(state)) if f.code == "runner"),
            what="doctor seeing the runner",
        )
    finally:
        runner.send_signal(signal.SIGINT)
        runner.wait(20)


def test_a_missing_or_unusable_path_is_an_error_not_a_crash(tmp_path: Path):
    assert _codes(diagnose(str(tmp_path / "nope")), "error") == {"no-state-dir"}
    (tmp_path / "file").write_text("x")
    assert _codes(diagnose(str(tmp_path / "file")), "error") == {"not-a-directory"}
    (tmp_path / "open").mkdir(mode=0o777)
    os.chmod(tmp_path / "open", 0o777)
    assert _codes(diagnose(str(tmp_path / "open")), "error") == {"dir-permissions"}
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o700)
    assert [f.code for f in diagnose(str(empty))] == ["empty", "healthy"]
