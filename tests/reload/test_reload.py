"""Hot reload with real watchfiles events: fix a failing step while it retries, and friends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import until

from durable_cli.engine import Change, Engine, Reloader, load_paths, run_detail
from durable_cli.store import open_store

pytestmark = pytest.mark.asyncio

WORKFLOW = textwrap.dedent(
    """
    import os
    import durable_cli as durable

    def record(name):
        with open(os.environ["RELOAD_LOG"], "a") as f:
            f.write(name + "\\n")

    def first():
        record("first")
        return 1

    def second(x):
        record("second")
        {body}

    @durable.function(id="job", trigger="go", retries=50, backoff=lambda n: 0.05)
    def job(event, step):
        x = step.run("first", first)
        return step.run("second", second, x)
    """
)
BROKEN = "raise RuntimeError('bug')"
FIXED = "return {'fixed': x + 41}"


def _write(path: Path, text: str) -> None:
    # write-then-rename, as editors do: the watcher must see it as a change of that file
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Dev:
    """An engine and its reloader on one loop, as `durable dev` runs them."""

    def __init__(self, tmp_path: Path, paths: list[Path]) -> None:
        self.store = open_store(str(tmp_path / "state"))
        self.changes: list[Change] = []
        self.engine = Engine(
            self.store, load_paths([str(p) for p in paths]), listeners=[self.changes.append]
        )
        self.reloader = Reloader(self.engine, [str(p) for p in paths])
        self.stop = asyncio.Event()

    async def __aenter__(self) -> Dev:
        self.tasks = [
            asyncio.ensure_future(self.engine.serve(stop=self.stop)),
            asyncio.ensure_future(self.reloader.run(self.stop)),
        ]
        await self._armed()
        return self

    async def _armed(self, timeout: float = 15.0) -> None:
        """Re-save a watched file until a reload shows the watcher is live, then forget it."""
        path = Path(next(iter(sorted(self.reloader.files))))
        deadline = time.monotonic() + timeout
        while not self.kinds("reload"):
            assert time.monotonic() < deadline, "the watcher never saw a change"
            _write(path, path.read_text())
            with contextlib.suppress(AssertionError):
                await until(lambda: bool(self.kinds("reload")), timeout=0.5)
        self.changes.clear()

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), 10)
        self.engine.close()
        self.store.close()

    def kinds(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    def attempts(self, step: str) -> int:
        runs = list(self.store.list_runs())
        if not runs:
            return 0
        steps = {s["id"]: s for s in run_detail(self.store, runs[0].id)["steps"]}
        return steps.get(step, {}).get("attempts", 0)


@pytest.fixture
def workflow(tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("RELOAD_LOG", str(log))
    path = tmp_path / "flows" / "job_flow.py"
    path.parent.mkdir()
    path.write_text(WORKFLOW.format(body=BROKEN))
    yield path, log
    sys.modules.pop("helpers_for_reload", None)


async def test_fixing_the_failing_step_while_it_retries(tmp_path, workflow):
    path, log = workflow
    async with Dev(tmp_path, [path]) as dev:
        dev.engine.send("go", {})
        await until(lambda: dev.attempts("second") >= 3)
        _write(path, WORKFLOW.format(body="return {'fixed': x + 41}"))
        await until(lambda: any(r.finished for r in dev.store.list_runs()))
        (run,) = dev.store.list_runs()
        assert run.status == "completed"
        assert run.output == {"fixed": 42}
        assert log.read_text().split().count("first") == 1
        assert dev.kinds("reload")


async def test_a_syntax_error_is_reported_and_the_old_code_keeps_retrying(tmp_path, workflow):
    path, _log = workflow
    async with Dev(tmp_path, [path]) as dev:
        dev.engine.send("go", {})
        await until(lambda: dev.attempts("second") >= 2)
        _write(path, WORKFLOW.format(body=BROKEN) + "\ndef oops(:\n")
        await until(lambda: bool(dev.kinds("load_error")))
        error = dev.kinds("load_error")[0]
        assert error.detail["file"] == str(path)
        assert error.detail["line"] == WORKFLOW.count("\n") + 2
        assert "SyntaxError" in error.error
        seen = dev.attempts("second")
        await until(lambda: dev.attempts("second") > seen)  # old code still live
        _write(path, WORKFLOW.format(body=FIXED))
        await until(lambda: any(r.finished for r in dev.store.list_runs()))
        (run,) = dev.store.list_runs()
        assert run.output == {"fixed": 42}


async def test_an_added_function_starts_receiving_events(tmp_path, workflow):
    path, _ = workflow
    async with Dev(tmp_path, [path.parent]) as dev:
        extra = path.parent / "extra_flow.py"
        _write(
            extra,
            textwrap.dedent(
                """
            import durable_cli as durable

            @durable.function(id="extra", trigger="extra/go")
            def extra(event, step):
                return step.run("hello", lambda: "hi")
            """
            ),
        )
        await until(lambda: "extra" in dev.engine.registry.functions)
        assert dev.kinds("reload")[-1].detail["added"] == ["extra"]
        dev.engine.send("extra/go", {})
        await until(lambda: any(r.status == "completed" for r in dev.store.list_runs()))


async def test_a_duplicate_id_across_files_is_a_load_error_naming_both(tmp_path, workflow):
    path, _ = workflow
    async with Dev(tmp_path, [path.parent]) as dev:
        clash = path.parent / "clash_flow.py"
        _write(clash, path.read_text())
        await until(lambda: bool(dev.kinds("load_error")))
        message = dev.kinds("load_error")[0].error
        assert str(path) in message and str(clash) in message
        assert "job" in dev.engine.registry.functions  # the last good version stays live
        clash.unlink()
        await until(lambda: bool(dev.kinds("reload")))


async def test_a_change_to_an_imported_local_module_reloads(tmp_path, workflow, monkeypatch):
    path, _ = workflow
    helper = path.parent / "helpers_for_reload.py"
    helper.write_text("ANSWER = 1\n")
    path.write_text(
        "import durable_cli as durable\nimport helpers_for_reload\n\n"
        "@durable.function(id='job', trigger='go')\n"
        "def job(event, step):\n    return step.run('a', lambda: helpers_for_reload.ANSWER)\n"
    )
    async with Dev(tmp_path, [path]) as dev:
        assert str(helper) in dev.reloader.files
        _write(helper, "ANSWER = 2\n")
        await until(lambda: bool(dev.kinds("reload")))
        dev.engine.send("go", {})
        await until(lambda: any(r.finished for r in dev.store.list_runs()))
        (run,) = dev.store.list_runs()
        assert run.output == 2
