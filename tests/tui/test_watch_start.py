"""Pilot test: the TUI arms its file watcher before the engine starts the runs queued at launch,
so a file saved as soon as those runs show is reloaded (a save made earlier went unseen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import watchfiles
from tui_support import wait_for

import durable_cli as durable
from durable_cli.engine import Change, Engine
from durable_cli.tui.app import DurableApp


async def test_the_watcher_is_armed_before_a_queued_run_starts(
    engine: Engine, workflow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    real = watchfiles.awatch

    def awatch(*args: Any, **kwargs: Any) -> Any:
        # the reloader's loop enters its first `async for` on this call: the OS watch is armed
        # in that same turn of the loop, before anything else runs on it
        order.append("watching")
        return real(*args, **kwargs)

    def seen(change: Change) -> None:
        if change.kind == "run" and change.status == "queued":
            order.append("run queued")

    monkeypatch.setattr(watchfiles, "awatch", awatch)
    engine.add_listener(seen)
    # queued before the app starts, as by `durable send`: the engine's first turn takes it in
    durable.send("test/go", {"n": 1}, state_dir=str(engine.store.path))
    app = DurableApp(engine, paths=[str(workflow)], watch=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(order) >= 2, "the watcher and the run")
        assert order[:2] == ["watching", "run queued"]
