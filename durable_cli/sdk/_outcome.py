"""A captured result or exception: lets sync and async steps share one core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Outcome"]


class Outcome:
    """What calling something produced: a value or an exception (BaseException included)."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        """Hold a value, or an error when `error` is given."""
        self.value = value
        self.error = error

    @property
    def ok(self) -> bool:
        """True when it holds a value."""
        return self.error is None

    def unwrap(self) -> Any:
        """Return the value or raise the error."""
        if self.error is not None:
            raise self.error
        return self.value

    @classmethod
    def capture(cls, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
        """Call `fn` and capture what it returns or raises."""
        try:
            return cls(fn(*args, **kwargs))
        except BaseException as exc:
            return cls(error=exc)

    @classmethod
    async def acapture(cls, awaitable: Awaitable[Any]) -> Outcome:
        """Await `awaitable` and capture what it returns or raises."""
        try:
            return cls(await awaitable)
        except BaseException as exc:
            return cls(error=exc)
