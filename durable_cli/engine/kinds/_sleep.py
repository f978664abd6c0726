"""`step.sleep` / `step.sleep_until`: the run is `sleeping` until a time, across restarts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...sdk import Plan
from ...store import StepRecord
from ._base import Host, Kind, seconds

__all__ = ["SLEEP"]


class Sleep(Kind):
    """Journal the due time once; every resume before it suspends the run again."""

    name = "sleep"
    label = "sleep"
    mark = "sleep"
    run_status = "sleeping"
    due_field = "until"

    def begin(
        self, inv: Host, sid: str, rec: StepRecord | None, duration: Any = None, until: Any = None
    ) -> Plan:
        """Complete once the due time has come; until then the run sleeps."""
        now = inv.now()
        if rec is None:
            due = _epoch_ms(until) if until is not None else now + int(seconds(duration) * 1000)
            rec = self.started(inv, sid, now, until=due)
        due = rec.meta["until"]
        if now >= due:
            return self.finish(inv, rec, None)
        self.hold(inv, rec, due, {"until": due}, {"wake_at": due})


def _epoch_ms(when: datetime) -> int:
    if not isinstance(when, datetime):
        raise TypeError(f"sleep_until needs a datetime, got {type(when).__name__}")
    return int(when.timestamp() * 1000)  # a naive datetime is local time, as in datetime.now()


SLEEP = Sleep()
