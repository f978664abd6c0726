"""Exported runs for replay tests, made by the real engine and the export function."""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

from durable_cli.engine import Engine, Registry, VirtualClock, export_run
from durable_cli.sdk import Function
from durable_cli.store import open_store
from durable_cli.testing import run_function


def exported(fn: Function, data: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """Run `fn` to its end with `run_function` (kept in a state dir) and export the run."""
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state")
        result = run_function(fn, data, state_dir=state, **options)
        store = open_store(state)
        try:
            return export_run(store, result.id)
        finally:
            store.close()


def exported_midway(fn: Function, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Send `fn`'s trigger to a real engine, serve one virtual second (a retry backoff or a
    sleep leaves the run unfinished) and export the run as it stands."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(os.path.join(tmp, "state"))
        try:
            clock = VirtualClock()
            engine = Engine(store, Registry([fn]), clock=clock)
            engine.send(fn.triggers[0], data or {})
            asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000))
            engine.close()
            (run,) = store.list_runs()
            assert not run.finished, run.status
            return export_run(store, run.id)
        finally:
            store.close()
