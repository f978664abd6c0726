"""Who wants to hear about finished `run_function` calls (the pytest plugin), import-light."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["observers", "report"]

observers: list[Callable[[Any], None]] = []


def report(result: Any) -> None:
    """Hand a result to every observer; an observer's failure never breaks the test's run."""
    for observer in list(observers):
        try:
            observer(result)
        except Exception:  # an observer is a debugging aid, never a test failure
            continue
