"""`step.invoke`: run another function as a child run; its output is the step's."""

from __future__ import annotations

from typing import Any

from ...errors import StepError
from ...sdk import Outcome, Plan
from ...store import RunRecord, StepRecord
from ._base import Host, Kind

__all__ = ["INVOKE"]


class Invoke(Kind):
    """Start the child once; the run is `waiting` until the child finishes and wakes it."""

    name = "invoke"
    label = "invoke"
    mark = "invoke"
    run_status = "waiting"
    shows_output = True

    def begin(
        self, inv: Host, sid: str, rec: StepRecord | None, function: Any = None, data: Any = None
    ) -> Plan:
        """Settle on a finished child; else start it (first time) and wait for it."""
        if rec is not None and rec.meta.get("child"):
            child = inv.engine.store.get_run(rec.meta["child"])
            if child is not None and child.finished:
                return self._settle_child(inv, rec, child)
            save = None
        else:
            rec = self.started(inv, sid)
            child = inv.engine.new_child(inv.run, rec, function, data)  # bad input: not held

            # the child is stored in the transaction that writes its parent's hold: a child
            # that ends at once, on any runner, then finds its parent waiting and wakes it
            def save(run: RunRecord, step: StepRecord) -> None:
                inv.engine.start_child(run, step, child)

        child_id = rec.meta["child"]
        reason = f"waiting for child run {child_id}"
        self.hold(inv, rec, None, {"child": child_id}, reason=reason, save=save)

    def _settle_child(self, inv: Host, rec: StepRecord, child: RunRecord) -> Plan:
        if child.status == "completed":
            return self.finish(inv, rec, child.output)
        now = inv.now()
        error = child.error or {"type": "Cancelled", "message": f"child run {child.status}"}
        rec.status, rec.error, rec.ended_at = "failed", error, now
        rec.attempts[-1].ended_at = now
        rec.attempts[-1].error = error
        inv.engine.store.save_step(rec)
        inv.emit("step", step_id=rec.id, status="failed", attempt=1, error=error.get("message"))
        return Plan(rec.id, done=Outcome(error=StepError.from_dict(rec.id, error, 1)))


INVOKE = Invoke()
