"""Which runs are ready to go, which are in flight, and which must go again: the loop's own
bookkeeping, with no I/O. Runs this engine has just created wait here with their records, so
starting them needs no read of the journal."""

from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING

from ..store import RunRecord

if TYPE_CHECKING:
    from ._invocation import Invocation

__all__ = ["Schedule"]


class Schedule:
    """Ready runs by priority then arrival; runs in flight with their invocations."""

    def __init__(self) -> None:
        """Start with nothing ready and nothing in flight."""
        self.active: dict[str, Invocation | None] = {}  # in flight (None: not yet invoked)
        self._again: set[str] = set()
        self._ready: list[tuple[int, int, str]] = []  # (-priority, arrival, run id)
        self._arrival = itertools.count()
        self._queued: set[str] = set()
        self._fresh: dict[str, RunRecord] = {}

    def push(self, run_id: str, priority: int = 0) -> None:
        """Make a run ready (a run in flight goes again after it lands)."""
        if run_id in self.active:
            self._again.add(run_id)
        elif run_id not in self._queued:
            self._queued.add(run_id)
            heapq.heappush(self._ready, (-priority, next(self._arrival), run_id))

    @property
    def has_ready(self) -> bool:
        """Whether any run waits to be dispatched."""
        return bool(self._ready)

    @property
    def busy(self) -> bool:
        """Whether any run is in flight or ready."""
        return bool(self.active) or bool(self._ready)

    def pop(self) -> str | None:
        """Take the next ready run into flight; None when it was in flight already (it goes
        again when it lands)."""
        _, _, run_id = heapq.heappop(self._ready)
        self._queued.discard(run_id)
        if run_id in self.active:
            self._again.add(run_id)
            return None
        self.active[run_id] = None
        return run_id

    def land(self, run_id: str) -> bool:
        """A run left flight; True when it must go again."""
        self.active.pop(run_id, None)
        if run_id in self._again:
            self._again.discard(run_id)
            return True
        return False

    def cancel_in_flight(self, run_id: str) -> None:
        """Tell a run in flight it was cancelled: it stops at its next step."""
        inv = self.active.get(run_id)
        if inv is not None:
            inv.cancelled = True

    def keep_fresh(self, run: RunRecord) -> None:
        """Hold a run this engine just created until it starts (no read needed then)."""
        self._fresh[run.id] = run

    def take_fresh(self, run_id: str) -> RunRecord | None:
        """The record of a run this engine just created, once."""
        return self._fresh.pop(run_id, None)

    def clear(self) -> None:
        """Forget every plan (what is in flight stays until it lands)."""
        self._ready.clear()
        self._queued.clear()
        self._again.clear()
        self._fresh.clear()
