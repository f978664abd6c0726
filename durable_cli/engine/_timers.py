"""Durable timers: a run's wake-up (retry backoff, sleep, wait timeout) is its run id in the heap;
debounce windows, cron ticks and finish timeouts are `timer:`-prefixed ids. The heap is rebuilt
from the journal on start, so a timer survives a restart."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from ..store import RunRecord

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["TIMER_PREFIX", "Timers"]

TIMER_PREFIX = "timer:"  # timers that are not a run's own wake-up: debounce, cron, finish timeouts


class Timers:
    """Mixed into `Engine`; all on the loop thread."""

    def _set_timer(self: Engine, timer_id: str, at: int) -> None:
        self._timer_at[timer_id] = at
        heapq.heappush(self._timers, (at, timer_id))
        self._poke()

    def _next_timer(self: Engine, *, work_only: bool = False) -> int | None:
        timers = self._timers
        while timers and self._timer_at.get(timers[0][1]) != timers[0][0]:
            heapq.heappop(timers)
        if not work_only:
            return timers[0][0] if timers else None
        # cron ticks recur forever: they are not work that is waiting to finish
        due = [
            at
            for at, tid in timers
            if self._timer_at.get(tid) == at and not tid.startswith(f"{TIMER_PREFIX}cron/")
        ]
        return min(due) if due else None

    def _fire_timers(self: Engine) -> None:
        now = self.clock.now_ms()
        while True:
            nxt = self._next_timer()
            if nxt is None or nxt > now:
                return
            _, timer_id = heapq.heappop(self._timers)
            del self._timer_at[timer_id]
            if not timer_id.startswith(TIMER_PREFIX):
                self._enqueue(timer_id)
                continue
            self._fire_special(timer_id.removeprefix(TIMER_PREFIX))

    def _fire_special(self: Engine, what: str) -> None:
        run = None
        if what.startswith("debounce/"):
            run = self.flow.fire_debounce(what)
        elif what.startswith("cron/"):
            run = self.cron.fire(what.removeprefix("cron/"))
        elif what.startswith("finish/"):
            victim = self.store.get_run(what.removeprefix("finish/"))
            if victim is not None and not victim.finished:
                fn = self.registry.get(victim.function)
                limit = fn.options.timeouts.get("finish") if fn else None
                self._cancel_now(victim, f"timed out: did not finish within {limit or '?'}s")
        if run is not None:
            self.emit_run(run, "queued")
            self._enqueue(run.id, run.meta.get("priority", 0))

    def _arm_finish_timeout(self: Engine, run: RunRecord, started_at: int | None = None) -> None:
        fn = self.registry.get(run.function)
        finish = fn.options.timeouts.get("finish") if fn else None
        started_at = started_at or run.started_at
        if finish is not None and started_at is not None:
            self._set_timer(f"{TIMER_PREFIX}finish/{run.id}", started_at + int(finish * 1000))
