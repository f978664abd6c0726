"""The step tools with no user callable: sleep, wait for an event, send an event, invoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import StepError
from ..sdk import Outcome, Plan
from ..store import Attempt, RunRecord, StepRecord
from ._flow import lookup

if TYPE_CHECKING:
    from ._invocation import Invocation

__all__ = ["ToolSteps"]


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected seconds or a timedelta, got {type(value).__name__}")


def _epoch_ms(when: datetime) -> int:
    if not isinstance(when, datetime):
        raise TypeError(f"sleep_until needs a datetime, got {type(when).__name__}")
    return int(when.timestamp() * 1000)  # a naive datetime is local time, as in datetime.now()


class ToolSteps:
    """Mixed into `Invocation`: one `_begin_<kind>` per tool."""

    def _finish_tool(self: Invocation, rec: StepRecord, output: Any) -> Plan:
        now = self._now()
        rec.status, rec.output, rec.ended_at = "completed", output, now
        if not rec.attempts:
            rec.attempts.append(Attempt(started_at=rec.started_at or now))
        rec.attempts[-1].ended_at = now
        self.engine.store.save_step(rec)
        self._emit(
            "step",
            step_id=rec.id,
            status="completed",
            attempt=1,
            duration_ms=now - (rec.started_at or now),
        )
        return Plan(rec.id, done=Outcome(self._replayed_value(rec)))

    def _begin_sleep(
        self: Invocation, sid: str, rec: StepRecord | None, duration: Any = None, until: Any = None
    ) -> Plan:
        now = self._now()
        if rec is None:
            due = _epoch_ms(until) if until is not None else now + int(_seconds(duration) * 1000)
            rec = self._new_record(sid, "sleep", until=due)
            rec.attempts.append(Attempt(started_at=now))
        due = rec.meta["until"]
        if now >= due:
            return self._finish_tool(rec, None)
        rec.status = "running"
        signal = self._suspend("sleeping", due)
        self.engine.store.save_step(rec, run=self.run)
        self._emit("step", step_id=sid, status="running", detail={"until": due})
        self._emit("run", status="sleeping", detail={"wake_at": due})
        raise signal

    def _begin_wait(
        self: Invocation,
        sid: str,
        rec: StepRecord | None,
        event: str = "",
        timeout: Any = None,
        match: str | None = None,
    ) -> Plan:
        now = self._now()
        if rec is None:
            if not isinstance(event, str) or not event:
                raise TypeError("wait_for_event needs event=<event name>")
            expires = now + int(_seconds(timeout) * 1000)
            expected = lookup(self.run.event, match) if match else None
            rec = self._new_record(
                sid, "wait", event=event, match=match, expected=expected, since=now, expires=expires
            )
            rec.attempts.append(Attempt(started_at=now))
        if now >= rec.meta["expires"]:
            self.engine.store.set_flag(f"wait/{rec.meta['event']}/{self.run.id}", None)
            return self._finish_tool(rec, None)
        rec.status = "running"
        signal = self._suspend("waiting", rec.meta["expires"])
        self.engine.register_wait(self.run, rec)
        self._emit("step", step_id=sid, status="running", detail={"event": rec.meta["event"]})
        self._emit("run", status="waiting", detail={"event": rec.meta["event"]})
        raise signal

    def _begin_send(
        self: Invocation, sid: str, rec: StepRecord | None, name: str = "", data: Any = None
    ) -> Plan:
        if rec is None:
            rec = self._new_record(sid, "send")
            rec.attempts.append(Attempt(started_at=self._now()))
        ids = self.engine.send_from_step(name, data, rec)
        self._emit("step", step_id=sid, status="completed", attempt=1, duration_ms=0)
        return Plan(sid, done=Outcome(ids))

    def _begin_invoke(
        self: Invocation, sid: str, rec: StepRecord | None, function: Any = None, data: Any = None
    ) -> Plan:
        if rec is not None and rec.meta.get("child"):
            child = self.engine.store.get_run(rec.meta["child"])
            if child is not None and child.finished:
                return self._settle_child(rec, child)
        else:
            rec = self._new_record(sid, "invoke")
            rec.attempts.append(Attempt(started_at=self._now()))
            self.engine.start_child(self.run, rec, function, data)
        rec.status = "running"
        signal = self._suspend("waiting", None, f"waiting for child run {rec.meta['child']}")
        self.engine.store.save_step(rec, run=self.run)
        self._emit("step", step_id=sid, status="running", detail={"child": rec.meta["child"]})
        self._emit("run", status="waiting", detail={"child": rec.meta["child"]})
        raise signal

    def _settle_child(self: Invocation, rec: StepRecord, child: RunRecord) -> Plan:
        if child.status == "completed":
            return self._finish_tool(rec, child.output)
        now = self._now()
        error = child.error or {"type": "Cancelled", "message": f"child run {child.status}"}
        rec.status, rec.error, rec.ended_at = "failed", error, now
        rec.attempts[-1].ended_at = now
        rec.attempts[-1].error = error
        self.engine.store.save_step(rec)
        self._emit("step", step_id=rec.id, status="failed", attempt=1, error=error.get("message"))
        return Plan(rec.id, done=Outcome(error=StepError.from_dict(rec.id, error, 1)))
