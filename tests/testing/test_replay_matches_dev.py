"""`testing.replay` and `durable dev`'s code-change hold judge a changed run alike: one set of
rules (engine/_history.py) decides both."""

from __future__ import annotations

import asyncio
import os
import tempfile

import pytest
from test_replay import flow

import durable_cli as durable
from durable_cli.engine import Engine, Registry, VirtualClock, export_run
from durable_cli.store import open_store
from durable_cli.testing import replay

# recorded: a and b completed, c retrying (its first attempt failed)
RECORDED = ("a", "b", "c")
CHANGES = {
    "unchanged": ("a", "b", "c"),
    "inserted": ("a", "x", "b", "c"),
    "removed": ("a", "c"),
    "swapped": ("b", "a", "c"),
    "kind changed": ("a", "b~", "c"),
    "retrying step renamed": ("a", "b", "c2"),
    "retrying step dropped": ("a", "b"),
    "completed steps dropped": ("a",),
    "step added after": ("a", "b", "c", "d"),
}


def _dev_then_export(new_steps: tuple[str, ...]) -> tuple[dict, dict | None]:
    """The recorded run exported at its retry, and what dev made of it with the new code:
    (export, the hold's code_change, or None when the run went on)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(os.path.join(tmp, "state"))
        try:
            clock = VirtualClock()
            engine = Engine(store, Registry([flow(*RECORDED, fail="c")]), clock=clock)
            engine.send("go", {})
            asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000))
            (run,) = store.list_runs()
            assert run.status == "retrying"
            history = export_run(store, run.id)
            engine.swap_registry(Registry([flow(*new_steps)]))
            asyncio.run(engine.serve(until_ms=clock.now_ms() + 120_000, recover=False))
            engine.close()
            after = store.get_run(run.id)
            assert after is not None
            held = after.meta.get("code_change") if after.status == "paused" else None
            assert held is not None or after.status == "completed", after.status
            return history, held
        finally:
            store.close()


@pytest.mark.parametrize("change", list(CHANGES))
def test_replay_raises_exactly_where_dev_holds_the_run(change: str) -> None:
    history, held = _dev_then_export(CHANGES[change])

    try:
        result = replay(flow(*CHANGES[change]), history)
    except durable.NondeterminismError as err:
        assert held is not None, f"dev let the run go on, replay raised: {err}"
        assert held["journal_step"] == err.recorded[0]
        assert held["code_step"] == (err.requested[0] if err.requested else None)
    else:
        assert held is None, f"dev held the run ({held}), replay did not raise"
        # the retrying step had not settled: the history ends there or before a new step,
        # unless the code no longer asks for it and asks for nothing new (then it completes)
        if result.history_ended:
            assert result.status == "paused"
        else:
            assert result.status == "completed" and change == "retrying step dropped"
