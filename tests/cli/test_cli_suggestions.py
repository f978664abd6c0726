"""Every command an error message suggests runs as printed.

Odd and damaged state dirs, in a folder whose name a shell must have quoted, make the real
`durable` fail; each command its error line suggests (in backticks) is then run as printed,
split as a shell would split it, from the same folder: none may be refused as a usage error,
and each must do what it was suggested for (`doctor` examines that state dir, `chmod` fixes it;
whether the doctor finds each fault is `tests/reliability`'s to check).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import DURABLE, Project

SUGGESTED = re.compile(r"`((?:durable|chmod|chown) [^`]*)`")
USAGE_ERROR = "--help`)"  # how the app ends a usage error (an unknown option, an extra argument)
BIG = {"document_id": "d-1", "pad": "x" * 70_000}  # stored in a value file of its own


@pytest.fixture
def odd(project: Project) -> Project:
    """A project whose state dir's name has a space in it."""
    project.state = project.root / "my state"
    project.env["DURABLE_STATE_DIR"] = str(project.state)
    return project


def _with_a_run(project: Project) -> str:
    project.add("docs.py")
    project.send("api/document.uploaded", BIG)
    project.run_until_idle()
    (run,) = project.json("runs")
    return run["id"]


def _value_files(project: Project) -> list[Path]:
    """The value files holding the big event (the event, and the run's copy of it)."""
    found = [f for f in project.state.rglob("*.val") if b"x" * 1000 in f.read_bytes()]
    assert found
    return found


def _garble(path: Path, offset: int, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xa5" * size)


def damaged_header(project: Project) -> list[str]:
    project.send("nothing/listens")
    _garble(project.state / "cache.db", 0, 64)
    return ["runs"]


def damaged_page(project: Project) -> list[str]:
    project.send("nothing/listens")
    _garble(project.state / "cache.db", 8192, 4096)  # found by SQLite, not by the header
    return ["send", "nothing/listens"]


def group_writable(project: Project) -> list[str]:
    project.send("nothing/listens")
    project.state.chmod(0o770)
    return ["runs"]


def foreign_folder(project: Project) -> list[str]:
    project.state.mkdir()
    (project.state / "notes.txt").write_text("not a journal\n")
    return ["send", "nothing/listens"]


def value_file_missing(project: Project) -> list[str]:
    run_id = _with_a_run(project)
    for found in _value_files(project):
        found.unlink()
    return ["show", run_id]


def value_file_not_json(project: Project) -> list[str]:
    run_id = _with_a_run(project)
    for found in _value_files(project):
        found.write_bytes(b"{not json")
    return ["show", run_id]


def no_workflow_files(project: Project) -> list[str]:
    return ["dev", "--headless", "--until-idle"]  # no pyproject.toml, no paths given


def usage_error(project: Project) -> list[str]:
    return ["doctor", "--no-such-option"]


CASES: dict[str, Callable[[Project], list[str]]] = {
    f.__name__: f
    for f in (
        damaged_header,
        damaged_page,
        group_writable,
        foreign_folder,
        value_file_missing,
        value_file_not_json,
        no_workflow_files,
        usage_error,
    )
}


def _run_as_printed(project: Project, command: str) -> subprocess.CompletedProcess:
    argv = shlex.split(command)
    if argv[0] == "durable":
        argv[0] = str(DURABLE)
    return subprocess.run(
        argv, cwd=project.root, env=project.env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("case", list(CASES))
def test_each_suggested_command_runs_as_printed(case: str, odd: Project):
    args = CASES[case](odd)
    failed = odd.cli(*args)
    assert failed.returncode == 2, (args, failed.returncode, failed.stdout, failed.stderr)
    suggested = SUGGESTED.findall(failed.stderr)
    assert suggested, f"no command suggested in: {failed.stderr}"
    for command in suggested:
        done = _run_as_printed(odd, command)
        assert USAGE_ERROR not in done.stderr, (command, done.stderr)
        argv = shlex.split(command)
        if argv[:2] == ["durable", "doctor"] and "--help" not in argv:
            assert done.returncode in (0, 1), (command, done.stdout, done.stderr)
            findings = json.loads(_run_as_printed(odd, f"{command} --json").stdout)
            assert any(str(odd.state) in (f["path"] or "") for f in findings), findings
        elif argv[0] == "chmod":
            assert done.returncode == 0, (command, done.stderr)
            assert odd.state.stat().st_mode & 0o777 == 0o700
        elif "--help" in argv:
            assert done.returncode == 0 and "Usage" in done.stdout, (command, done.stderr)


def test_doctor_takes_the_state_dir_as_an_argument(odd: Project):
    odd.send("nothing/listens")
    elsewhere = odd.root / "other"
    by_path = odd.cli("doctor", "--json", str(odd.state), DURABLE_STATE_DIR=str(elsewhere))
    assert by_path.returncode == 0, by_path.stderr  # the argument wins over the variable
    assert any(f["code"] == "healthy" for f in json.loads(by_path.stdout))
    same = odd.cli("doctor", str(odd.state), "--state-dir", os.path.relpath(odd.state, odd.root))
    assert same.returncode == 0, same.stderr  # one folder, named twice
    assert odd.cli("doctor", "--state-dir", str(odd.state)).returncode == 0


def test_doctor_refuses_two_different_state_dirs(odd: Project):
    odd.send("nothing/listens")
    done = odd.cli("doctor", str(odd.state), "--state-dir", str(odd.root / "other"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "different state dirs" in lines[0], done.stderr
    assert done.stdout == ""
