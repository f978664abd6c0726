"""`step.send_event`: send an event once; a replay hands back the ids it sent."""

from __future__ import annotations

from typing import Any

from ...sdk import Outcome, Plan
from ...store import StepRecord
from ._base import Host, Kind

__all__ = ["SEND"]


class Send(Kind):
    """The engine sends and journals the step in one transaction; the run never suspends."""

    name = "send"
    label = "send event"
    mark = "send"

    def begin(
        self, inv: Host, sid: str, rec: StepRecord | None, name: str = "", data: Any = None
    ) -> Plan:
        """Send (unless a crash left the step journaled but unsettled) and return the ids."""
        if rec is None:
            rec = self.started(inv, sid)
        ids = inv.engine.send_from_step(name, data, rec)
        inv.emit("step", step_id=sid, status="completed", attempt=1, duration_ms=0)
        return Plan(sid, done=Outcome(ids))


SEND = Send()
