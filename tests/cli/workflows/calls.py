"""Side-effect counters for the CLI tests' workflows: one line per real call, beside this file."""

from __future__ import annotations

import os
from pathlib import Path

CALLS = Path(__file__).with_name("calls")


def record(name: str) -> int:
    """Append one line to calls/<name>.log and return how many calls it now holds."""
    CALLS.mkdir(exist_ok=True)
    path = CALLS / f"{name}.log"
    with open(path, "a") as fh:
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        os.fsync(fh.fileno())
    return len(path.read_text().splitlines())
