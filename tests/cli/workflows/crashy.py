"""A step that SIGKILLs its own runner the first time it runs."""

from __future__ import annotations

import os
import signal

from calls import record

import durable_cli as durable


def _boom() -> int:
    calls = record("boom")
    if calls == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return calls


@durable.function(id="crashy", trigger="test/crash")
def crashy(event: durable.Event, step: durable.Step) -> int:
    """before, boom (kills the runner once), after."""
    step.run("before", record, "before")
    calls = step.run("boom", _boom)
    step.run("after", record, "after")
    return calls
