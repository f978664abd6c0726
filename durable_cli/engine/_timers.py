"""The loop's cache of due times: ids by epoch ms, earliest first.

A run's own wake-up (retry backoff, sleep, wait timeout) is its run id; debounce windows, cron
ticks and finish timeouts are `timer:`-prefixed ids. The truth lives in the store (a suspended
run's due time is indexed there, debounce windows and cron ticks are flags), so this heap only
says when to look: it is rebuilt from the store on start, and a timer another runner set is
found by the engine's poll of the store's due times.
"""

from __future__ import annotations

import heapq

__all__ = ["TIMER_PREFIX", "Timers"]

TIMER_PREFIX = "timer:"  # timers that are not a run's own wake-up: debounce, cron, finish timeouts


class Timers:
    """A heap of (due ms, id) where setting an id again replaces its due time."""

    def __init__(self) -> None:
        """Start empty."""
        self._heap: list[tuple[int, str]] = []
        self._at: dict[str, int] = {}

    def set(self, timer_id: str, at: int) -> None:
        """Fire `timer_id` at epoch ms `at` (instead of any earlier setting)."""
        self._at[timer_id] = at
        heapq.heappush(self._heap, (at, timer_id))

    def cancel(self, timer_id: str) -> None:
        """Forget `timer_id` (a heap entry left behind is skipped when it surfaces)."""
        self._at.pop(timer_id, None)

    def next(self, *, work_only: bool = False) -> int | None:
        """The earliest due time; `work_only` leaves cron ticks out (they recur forever, so
        they are not work waiting to finish)."""
        heap, at = self._heap, self._at
        while heap and at.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        if not work_only:
            return heap[0][0] if heap else None
        due = [t for t, tid in heap if at.get(tid) == t and not tid.startswith(_CRON)]
        return min(due) if due else None

    def pop_due(self, now: int) -> str | None:
        """The id of the earliest timer due by `now`, taken off the heap; None when none is."""
        nxt = self.next()
        if nxt is None or nxt > now:
            return None
        _, timer_id = heapq.heappop(self._heap)
        del self._at[timer_id]
        return timer_id

    def clear(self) -> None:
        """Forget every timer."""
        self._heap.clear()
        self._at.clear()


_CRON = f"{TIMER_PREFIX}cron/"
