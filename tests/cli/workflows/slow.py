"""A step that is still running (a minute) when the test stops the runner, the first time."""

from __future__ import annotations

import time

from calls import record

import durable_cli as durable


def _slow() -> int:
    calls = record("slow")
    if calls == 1:
        time.sleep(60)
    return calls


@durable.function(id="slow", trigger="test/slow")
def slow(event: durable.Event, step: durable.Step) -> int:
    """first, slow (blocks on its first call), last."""
    step.run("first", record, "first")
    calls = step.run("slow", _slow)
    step.run("last", record, "last")
    return calls
