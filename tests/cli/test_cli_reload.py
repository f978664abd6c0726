"""`durable dev --headless` picks up a fix saved while a step is failing and retrying."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

from cli_support import Project, Runner

SOURCE = textwrap.dedent(
    """
    import durable_cli as durable
    from calls import record

    def first():
        record("first")
        return 20

    def second(x):
        record("second")
        {body}

    @durable.function(id="fixable", trigger="fix/go", retries=100, backoff=lambda n: 0.1)
    def fixable(event, step):
        x = step.run("first", first)
        return step.run("second", second, x)
    """
)


def _replace(path: Path, source: str) -> None:
    tmp = path.with_suffix(".swp")
    tmp.write_text(source)
    os.replace(tmp, path)  # as editors save: write aside, rename over


def _save(path: Path, body: str, tail: str = "") -> None:
    _replace(path, SOURCE.format(body=body) + tail)


def _save_until(runner: Runner, path: Path, body: str, seen: str, tail: str = "") -> str:
    """Save until the runner logs a line containing `seen` (a watcher may arm late)."""
    before = len(runner.out)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _save(path, body, tail)
        try:
            return runner.wait_for_line(
                lambda line: seen in line and runner.out.index(line) >= before, timeout=1.0
            )
        except AssertionError:
            continue
    raise AssertionError(f"never saw {seen!r}: {runner.out[-5:]} {runner.stderr}")


def _retries(runner: Runner) -> int:
    return sum(1 for line in list(runner.out) if "second" in line and "retrying" in line)


def _start(project: Project) -> tuple[Runner, Path]:
    project.add()
    path = project.root / "fixable.py"
    _save(path, "raise RuntimeError('bug in second')")
    runner = project.dev(str(path))
    project.send("fix/go")
    runner.wait_for_line(lambda line: "second" in line and "retrying" in line)
    from helpers import wait_until

    wait_until(lambda: _retries(runner) >= 2, 30, what="two retries of the broken step")
    return runner, path


def _finish(project: Project, runner: Runner) -> None:
    runner.wait_for_line(lambda line: " -  " in line and "completed" in line, timeout=30)
    (run,) = project.json("runs")
    detail = project.json("show", run["id"])
    assert detail["status"] == "completed"
    assert detail["output"] == {"fixed": 21}
    assert project.calls("first") == 1
    assert runner.stop() in (0, 130)


def test_a_fix_saved_while_retrying_completes_the_run(project: Project):
    runner, path = _start(project)
    _save_until(runner, path, "return {'fixed': x + 1}", "reloaded")
    _finish(project, runner)


def test_a_syntax_error_in_between_is_reported_and_the_old_code_keeps_retrying(project):
    runner, path = _start(project)
    line = _save_until(
        runner, path, "raise RuntimeError('bug in second')", "load_error", tail="\ndef broken(:\n"
    )
    assert f"{path}:" in line and "SyntaxError" in line
    seen = _retries(runner)
    from helpers import wait_until

    wait_until(lambda: _retries(runner) > seen, 30, what="the old code retrying again")
    _save_until(runner, path, "return {'fixed': x + 1}", "reloaded")
    _finish(project, runner)


# retries enough that the old code is still retrying when a reload lands on a busy machine

RENAMED = textwrap.dedent(
    """
    import durable_cli as durable

    @durable.function(id="renamed", trigger="ren/go", retries=1000, backoff=lambda n: 0.1)
    def renamed(event, step):
        a = step.run("a", lambda: 1)
        b = step.run("{second}", lambda: 2)
        return step.run("c", {last})
    """
)


def test_a_code_change_holds_the_run_until_continue(project: Project):
    project.add()
    path = project.root / "renamed.py"
    path.write_text(RENAMED.format(second="b", last="lambda: 1 / 0"))
    runner = project.dev(str(path))
    project.send("ren/go")
    runner.wait_for_line(lambda line: " c  " in line and "retrying" in line)
    # b is renamed while c retries: the journal's b would otherwise be skipped over
    _replace(path, RENAMED.format(second="b2", last="lambda: 3"))
    held = runner.wait_for_line(lambda line: "code_changed" in line, timeout=30)
    assert "'b2'" in held and "'b'" in held
    (run,) = project.json("runs")
    assert run["status"] == "paused"
    assert project.ok("continue", run["id"]) == f"continuing {run['id']}"
    runner.wait_for_line(lambda line: " -  " in line and "completed" in line, timeout=30)
    detail = project.json("show", run["id"])
    assert detail["output"] == 3
    assert [s["id"] for s in detail["steps"]] == ["a", "b", "c", "b2"]
    assert runner.stop() in (0, 130)


# imported by the runner at start (a folder put first on its PYTHONPATH): importing watchfiles
# takes a while, as on a busy machine, which once left a save made meanwhile unseen
SLOW_WATCHFILES = textwrap.dedent(
    """
    import sys
    import time


    class SlowWatchfiles:
        def find_spec(self, name, path=None, target=None):
            if name == "watchfiles":
                time.sleep(2)
            return None


    sys.meta_path.insert(0, SlowWatchfiles())
    """
)


def test_a_save_made_as_soon_as_the_first_run_shows_is_reloaded(project: Project):
    project.add()
    path = project.root / "renamed.py"
    path.write_text(RENAMED.format(second="b", last="lambda: 1 / 0"))
    project.send("ren/go")  # queued before the runner starts: its first turn starts the run
    slow = project.root / "slow_import"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(SLOW_WATCHFILES)
    paths = [str(slow), *filter(None, [project.env.get("PYTHONPATH")])]
    runner = project.dev(str(path), PYTHONPATH=os.pathsep.join(paths))
    runner.wait_for_line(lambda line: " c  " in line and "retrying" in line, timeout=30)
    _replace(path, RENAMED.format(second="b2", last="lambda: 3"))  # once: the watcher is on
    runner.wait_for_line(lambda line: "reloaded" in line, timeout=30)
    runner.wait_for_line(lambda line: "code_changed" in line, timeout=30)
    assert runner.stop() in (0, 130)
