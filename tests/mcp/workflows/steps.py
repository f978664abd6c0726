"""Workflows the MCP tests drive: three counted steps, a step that retries after an hour, and a
step whose output is long."""

from __future__ import annotations

from calls import record

import durable_cli as durable


@durable.function(id="three-steps", trigger="test/three", retries=2, backoff=0.05)
def three_steps(event: durable.Event, step: durable.Step) -> dict:
    """Run three steps, each counting its real calls; return the event's tag."""
    step.run("first", record, "first")
    step.run("second", record, "second")
    step.run("third", record, "third")
    return {"tag": event.data.get("tag")}


@durable.function(id="slow-retry", trigger="test/slow", retries=2, backoff=3600)
def slow_retry(event: durable.Event, step: durable.Step) -> int:
    """One step; a failed attempt is retried after an hour (unless someone says retry now)."""
    return step.run("work", record, "work")


@durable.function(id="big-output", trigger="test/big")
def big_output(event: durable.Event, step: durable.Step) -> None:
    """One step returning `data.size` characters."""
    step.run("make", lambda: "x" * event.data["size"])
