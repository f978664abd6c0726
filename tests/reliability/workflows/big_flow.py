"""For the damaged-state tests: one run whose step output is large (it lives in a value file)."""

from __future__ import annotations

import durable_cli as durable

BIG = 100_000


@durable.function(id="big", trigger="big/go")
def big(event: durable.Event, step: durable.Step) -> int:
    """One step returning BIG characters."""
    return len(step.run("blob", lambda: "x" * BIG))
