"""Cron triggers: a run per tick, and one catch-up run for ticks missed while nothing ran.

After downtime, durable does what cron's successors do with "persistent" timers (systemd's
`Persistent=true`, Kubernetes' `startingDeadlineSeconds`): it starts ONE run for the most recent
missed tick, not one per missed tick, so a laptop that slept all weekend doesn't replay hundreds
of runs. The run's event says which tick it stands for and how many were skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..sdk import Function
from ..store import RunRecord

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["CRON_EVENT", "CronScheduler", "next_tick"]

CRON_EVENT = "durable/cron"


def _ticks(expr: str, after_ms: int) -> Any:
    from croniter import croniter  # here: only projects with cron functions pay for it

    start = datetime.fromtimestamp(after_ms / 1000, tz=UTC)
    return croniter(expr, start, ret_type=float)


def next_tick(expr: str, after_ms: int) -> int:
    """The first tick strictly after `after_ms` (UTC), in epoch ms."""
    return int(_ticks(expr, after_ms).get_next() * 1000)


class CronScheduler:
    """Arms a timer per cron function; each firing creates a run and records the tick."""

    def __init__(self, engine: Engine) -> None:
        """Bind to an engine."""
        self.engine = engine

    def arm_all(self, *, catch_up: bool) -> None:
        """(Re)arm every cron function of the current registry."""
        now = self.engine.clock.now_ms()
        for fn in self.engine.registry.crons:
            last = self._last(fn)
            if last is None:
                self.engine.store.set_flag(f"cron/{fn.id}", {"last": now, "expr": fn.options.cron})
                last = now
            due = next_tick(fn.options.cron, last)
            if catch_up and due <= now:
                due = now  # missed while down: one catch-up run now
            self.engine.set_timer(f"timer:cron/{fn.id}", due)

    def _last(self, fn: Function) -> int | None:
        entry = self.engine.store.get_flag(f"cron/{fn.id}")
        if entry is None or entry.get("expr") != fn.options.cron:
            return None  # new schedule: start counting from now
        return entry["last"]

    def fire(self, fn_id: str) -> RunRecord | None:
        """The timer of `fn_id` went off: one run for the latest due tick, then re-arm.

        The last tick is read and moved on in one transaction, so with several runners armed
        for the same schedule the tick is taken by the first to get there, once."""
        fn = self.engine.registry.get(fn_id)
        if fn is None or not fn.options.cron:
            return None
        expr, now, store = fn.options.cron, self.engine.clock.now_ms(), self.engine.store
        run, due = None, None
        with store.batch():
            last = self._last(fn) or now
            ticks, skipped = _ticks(expr, last), 0
            while True:
                tick = int(ticks.get_next() * 1000)
                if tick > now:
                    break
                if due is not None:
                    skipped += 1
                due = tick
            if due is not None:
                event = self.engine.make_event(
                    CRON_EVENT, {"cron": expr, "scheduled_at": due, "skipped_ticks": skipped}
                )
                run = self.engine.new_run(fn, event)
                store.put_event(event, queue=False)
                store.create_runs([run])
                store.set_flag(f"cron/{fn.id}", {"last": due, "expr": expr})
        self.engine.set_timer(f"timer:cron/{fn.id}", next_tick(expr, max(now, due or now)))
        return run
