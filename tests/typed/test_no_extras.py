"""Without the `typed` and `otel` extras nothing of pydantic or OpenTelemetry is imported, and
dataclasses still go through steps typed; with OpenTelemetry imported but no provider set up by
the application, the engine adds nothing to a run (no listener, no trace in the journal)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Runs in a fresh interpreter: this test process has long imported both libraries.
_BLOCKED = textwrap.dedent(
    """
    import importlib.abc, json, sys
    from dataclasses import dataclass

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("pydantic", "pydantic_core", "opentelemetry"):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    if sys.argv[1] == "blocked":
        sys.meta_path.insert(0, NotInstalled())

    import durable_cli as durable
    from durable_cli.testing import run_function

    @dataclass
    class Point:
        x: int
        y: int

    def make(x: int) -> Point:
        return Point(x, x + 1)

    @durable.function(id="plain", trigger="t/go")
    def plain(event, step):
        a = step.run("untyped", lambda: {"n": 1})
        p = step.run("typed", make, a["n"])
        step.sleep("nap", 1)
        q = step.run("typed-again", make, p.y)
        assert isinstance(p, Point) and isinstance(q, Point), (p, q)
        return [p.x, q.y]

    result = run_function(plain)
    durable.send("t/go", {"n": 1}, state_dir=sys.argv[2])
    loaded = sorted(
        {m.split(".")[0] for m in sys.modules} & {"pydantic", "pydantic_core", "opentelemetry"}
    )
    print(json.dumps({"status": result.status, "output": result.output, "loaded": loaded}))
    """
)


def _run(tmp_path, mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _BLOCKED, mode, str(tmp_path / "state")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_run_imports_neither_pydantic_nor_opentelemetry(tmp_path):
    assert _run(tmp_path, "installed") == {"status": "completed", "output": [1, 3], "loaded": []}


def test_dataclass_steps_work_with_neither_library_installed(tmp_path):
    assert _run(tmp_path, "blocked") == {"status": "completed", "output": [1, 3], "loaded": []}


_UNCONFIGURED = textwrap.dedent(
    """
    import asyncio, json, sys
    import opentelemetry.trace  # imported, but no provider is set: tracing stays off
    import durable_cli as durable
    from durable_cli.engine import Engine, Registry
    from durable_cli.store import open_store

    @durable.function(id="plain", trigger="t/go")
    def plain(event, step):
        return step.run("one", lambda: 1)

    with opentelemetry.trace.get_tracer("app").start_as_current_span("no provider"):
        durable.send("t/go", state_dir=sys.argv[1])
    store = open_store(sys.argv[1])
    engine = Engine(store, Registry([plain]))
    asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    (run,) = store.list_runs()
    print(json.dumps({"status": run.status, "meta": run.meta, "listening": engine.has_listeners}))
    """
)


def test_opentelemetry_without_a_provider_adds_nothing_to_a_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", _UNCONFIGURED, str(tmp_path / "state")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"status": "completed", "meta": {}, "listening": False}
