"""Time, swappable: the wall clock for `durable dev`, virtual time for the testing helper."""

from __future__ import annotations

import time

__all__ = ["Clock", "VirtualClock", "WallClock"]


class Clock:
    """What the engine asks of time. `now_ms` is epoch milliseconds."""

    virtual = False

    def now_ms(self) -> int:
        """Current time in epoch milliseconds."""
        raise NotImplementedError

    def wait_timeout(self, deadline_ms: int | None, *, busy: bool) -> float | None:
        """Seconds the idle engine may wait before `deadline_ms` (None: until poked)."""
        raise NotImplementedError


class WallClock(Clock):
    """Real time."""

    def now_ms(self) -> int:
        """Current time in epoch milliseconds."""
        return int(time.time() * 1000)

    def wait_timeout(self, deadline_ms: int | None, *, busy: bool) -> float | None:
        """Until the deadline, in seconds."""
        if deadline_ms is None:
            return None
        return max(0.0, (deadline_ms - self.now_ms()) / 1000)


class VirtualClock(Clock):
    """Time that only moves when nothing is running: it jumps to the next timer at once."""

    virtual = True

    def __init__(self, start_ms: int | None = None) -> None:
        """Start at `start_ms` (default: the wall clock now)."""
        self._now = int(time.time() * 1000) if start_ms is None else start_ms

    def now_ms(self) -> int:
        """Current virtual time in epoch milliseconds."""
        return self._now

    def advance(self, ms: int) -> None:
        """Move time forward by `ms`."""
        self._now += max(0, ms)

    def wait_timeout(self, deadline_ms: int | None, *, busy: bool) -> float | None:
        """While work runs, wait for it; when idle, jump to the deadline and don't wait."""
        if busy or deadline_ms is None:
            return None
        self._now = max(self._now, deadline_ms)
        return 0.0
