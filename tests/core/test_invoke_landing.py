"""A child run (`step.invoke`) that ends before its parent has written its hold still wakes the
parent: the parent's hold must not bury the wake-up the child's end gave it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from helpers import wait_until

import durable_cli as durable
from durable_cli.engine import Engine, Registry, VirtualClock


def test_a_child_that_ends_before_its_parent_holds_still_wakes_it(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    @durable.function(id="quick-kid", trigger="t/kid")
    def kid(event, step):
        return step.run("play", lambda: 1)

    @durable.function(id="parent", trigger="t/go")
    def parent(event, step):
        return step.invoke("call-kid", function=kid)

    engine = Engine(store, Registry([parent, kid]), clock=VirtualClock())
    started = Engine.start_child

    def start_child_and_let_it_end(self: Engine, run: Any, rec: Any, *args: Any) -> None:
        started(self, run, rec, *args)
        # on the parent's worker thread, before its hold is written: the child runs on another
        # worker and lands (its end acted on by the loop) first, as it may on a busy machine
        child_id = rec.meta["child"]

        def landed() -> bool:
            child = self.store.get_run(child_id)
            return child is not None and child.finished and child_id not in self.schedule.active

        wait_until(landed, timeout=30, what="the child run to end and land")

    monkeypatch.setattr(Engine, "start_child", start_child_and_let_it_end)
    engine.send("t/go")
    try:
        asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    finally:
        engine.close()
    (run,) = store.list_runs(function="parent")
    assert (run.status, run.output) == ("completed", 1)
