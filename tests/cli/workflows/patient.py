"""One step whose retries wait seconds (room for a command to act between two attempts)."""

from __future__ import annotations

from calls import record

import durable_cli as durable


@durable.function(id="patient", trigger="test/patient", retries=3, backoff=5)
def patient(event: durable.Event, step: durable.Step) -> str:
    """Call the one step; a failure of it is retried after about five seconds."""
    return step.run("work", record, "work")
