"""A step that always fails, retrying after `data.delay` seconds (other failures: an hour)."""

from __future__ import annotations

from calls import record

import durable_cli as durable


@durable.function(id="always-fails", trigger="test/fail", retries=5, backoff=3600)
def always_fails(event: durable.Event, step: durable.Step) -> None:
    """Fail the one step, again and again."""

    def boom() -> None:
        record("boom")
        raise durable.RetryAfterError(event.data.get("delay", 0.05), "boom")

    step.run("boom", boom)
