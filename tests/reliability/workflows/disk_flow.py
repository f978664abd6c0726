"""For the disk-full test: a step that waits for a gate file, then returns 100 KB.

A value that large goes to its own file beside the journal, so committing it needs fresh disk
space however much room SQLite's WAL still has.
"""

from __future__ import annotations

import os
import time

import durable_cli as durable


def big(n: int) -> str:
    """Note the attempt, wait for the test to open the gate, return a large value."""
    with open(os.environ["EFFECTS"], "a") as fh:
        fh.write(f"big {n}\n")
    while not os.path.exists(os.environ["GATE"]):
        time.sleep(0.01)  # the test opens the gate once the disk is full
    return "z" * 100_000


@durable.function(id="disk", trigger="disk/go")
def disk(event: durable.Event, step: durable.Step) -> int:
    """A small step, then a large one."""
    one = step.run("small", lambda: 1)
    return one + len(step.run("big", big, event.data["n"]))
