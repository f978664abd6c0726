"""What the engine reports to its listeners (the headless log, the TUI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Change", "Listener"]


@dataclass(slots=True)
class Change:
    """One change: a run or step status, an event received, a reload or a load error.

    `kind` is "run", "step", "event", "reload", "load_error" or "code_changed". Listeners treat
    it as read-only; it is not frozen because a frozen dataclass costs several times as much to
    build (each field goes through `object.__setattr__`), and a busy runner builds a dozen per
    run. For the same reason the engine's hot paths build it positionally: add new fields at the
    end.
    """

    kind: str
    at: int
    run_id: str | None = None
    function: str | None = None
    step_id: str | None = None
    status: str | None = None
    attempt: int | None = None
    duration_ms: int | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class Listener(Protocol):
    """Receives changes. May be called from worker threads: hand off, don't block."""

    def __call__(self, change: Change) -> None:
        """Take one change."""
        ...
