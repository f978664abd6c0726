"""A parent run that invokes a child run (`step.invoke`) between two steps of its own."""

from __future__ import annotations

from typing import Any

from calls import record

import durable_cli as durable


@durable.function(id="child-double", trigger="family/child")
def child_double(event: durable.Event, step: durable.Step) -> int:
    """Double the number it is given."""
    return step.run("double", lambda: record("double") and event.data["n"] * 2)


@durable.function(id="parent-sum", trigger="family/go")
def parent_sum(event: durable.Event, step: durable.Step) -> dict[str, Any]:
    """Pick a number, have a child run double it, add the two."""
    n = step.run("pick", lambda: record("pick") and event.data["n"])
    doubled = step.invoke("kid", function=child_double, data={"n": n})
    return {"sum": step.run("add", lambda: record("add") and n + doubled)}
