"""The `@durable.function` decorator and the options it records."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Backoff", "Function", "function"]

Backoff = float | int | Callable[[int], float] | None

_DEFAULT_RETRIES = 4


@dataclass(eq=False)
class Function:
    """A decorated workflow function: the handler and its options."""

    id: str
    triggers: tuple[str, ...]
    handler: Callable[..., Any]
    retries: int = _DEFAULT_RETRIES
    backoff: Backoff = None
    is_async: bool = False
    source: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the handler directly (no journal): handy in a REPL."""
        return self.handler(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<durable function {self.id!r} triggers={list(self.triggers)}>"


def _triggers(trigger: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if trigger is None:
        return ()
    if isinstance(trigger, str):
        return (trigger,)
    names = tuple(trigger)
    if not all(isinstance(t, str) and t for t in names):
        raise TypeError("trigger must be an event name or a list of event names")
    return names


def function(
    *,
    id: str,
    trigger: str | list[str] | tuple[str, ...] | None = None,
    retries: int = _DEFAULT_RETRIES,
    backoff: Backoff = None,
) -> Callable[[Callable[..., Any]], Function]:
    """Make a handler `(event, step)` a durable function triggered by `trigger`."""
    if not isinstance(id, str) or not id:
        raise TypeError("function id must be a non-empty string")
    if not isinstance(retries, int) or retries < 0:
        raise TypeError("retries must be a whole number >= 0")
    if backoff is not None and not callable(backoff) and not isinstance(backoff, int | float):
        raise TypeError("backoff must be seconds or a callable attempt -> seconds")
    triggers = _triggers(trigger)

    def decorate(handler: Callable[..., Any]) -> Function:
        source = inspect.getsourcefile(handler) or ""
        return Function(
            id=id,
            triggers=triggers,
            handler=handler,
            retries=retries,
            backoff=backoff,
            is_async=inspect.iscoroutinefunction(handler),
            source=source,
        )

    return decorate
