"""What a step kind is, and the invocation surface every kind works through.

A kind decides how its step begins (replay, prepare, perform or suspend the run), how its
journaled value is handed back on replay, and the facts the CLI, the TUI and the testing helper
show for it. It reaches the run only through `Host` (the invocation's public methods) and the
engine only through `HostEngine` (what invocations have always asked of the engine).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, NoReturn, Protocol

from ...errors import Suspend
from ...sdk import Function, Outcome, Plan
from ...store import Attempt, RunRecord, StepRecord, Store

__all__ = ["Host", "HostEngine", "Kind", "Write", "seconds"]

# a step write a kind asks the invocation's driver for: the step, its run (written with it, for
# a retry or in step mode) and the injected failure it used up
Write = tuple[StepRecord, RunRecord | None, str | None]


class HostEngine(Protocol):
    """The engine as kinds see it: exactly what an invocation calls on it."""

    store: Store
    interceptor: Callable[[RunRecord, str, int], Callable[..., Any] | None] | None

    def take_injection(self, run: RunRecord, step_id: str) -> tuple[str, str] | None:
        """Use one injected failure for this attempt, if any applies: (key, message)."""
        ...

    def register_wait(self, run: RunRecord, rec: StepRecord) -> None:
        """Journal a wait for an event and the run's new status, together."""
        ...

    def send_from_step(self, name: str, data: Any, rec: StepRecord) -> list[str]:
        """Send an event from a step, journaling the step in the same transaction."""
        ...

    def new_child(self, parent: RunRecord, rec: StepRecord, function: Any, data: Any) -> RunRecord:
        """The child run of `step.invoke`, not stored yet; InputError for bad input."""
        ...

    def start_child(self, parent: RunRecord, rec: StepRecord, child: RunRecord) -> None:
        """Store a child run and its parent's hold in one transaction, and queue the child."""
        ...


class Host(Protocol):
    """The invocation as kinds see it (`Invocation` implements it)."""

    run: RunRecord
    fn: Function
    engine: HostEngine

    def now(self) -> int:
        """The engine clock's time, epoch milliseconds."""
        ...

    def new_record(self, sid: str, kind: str, now: int | None = None, /, **meta: Any) -> StepRecord:
        """A new step record, next in the run's order, known to this invocation's journal."""
        ...

    def suspend(self, status: str, wake_at: int | None, reason: str | None = None) -> Suspend:
        """Set the run's new status and wake time; return the signal that unwinds the handler."""
        ...

    def emit(self, kind: str, **fields: Any) -> None:
        """Tell the engine's listeners about a change of this run."""
        ...

    def emit_step(
        self, at: int, sid: str, status: str, attempt: int, duration_ms: int | None = None
    ) -> None:
        """`emit` for the two changes every `run` step makes (it starts, it completes)."""
        ...

    def complete(self, plan: Plan, outcome: Outcome) -> Any:
        """Journal an executed `run` step's outcome; return its value or raise."""
        ...


class Kind:
    """One step kind; the subclasses in this package are the rows of `KINDS`."""

    name = ""
    label = ""  # words naming the kind in a timeline ("wait for event"); empty for plain steps
    mark = ""  # the short tag a narrow column shows for it ("wait"); empty for plain steps
    run_status = "running"  # the run's status while a step of this kind holds it
    shows_output = False  # whether a completed step's output is worth showing
    due_field: str | None = None  # the meta field holding the time the step is due, if any

    def begin(self, inv: Host, sid: str, rec: StepRecord | None, **opts: Any) -> Plan:
        """Prepare, perform or suspend on a step that has not settled (`rec` None: new)."""
        raise NotImplementedError

    def replayed(self, output: Any) -> Any:
        """The value the handler gets back from this kind's journaled output."""
        return output

    # -- helpers the kinds share ------------------------------------------------------------
    def started(self, inv: Host, sid: str, now: int | None = None, /, **meta: Any) -> StepRecord:
        """A new record of this kind with its one attempt begun."""
        now = inv.now() if now is None else now
        rec = inv.new_record(sid, self.name, now, **meta)
        rec.attempts.append(Attempt(started_at=now))
        return rec

    def finish(self, inv: Host, rec: StepRecord, output: Any) -> Plan:
        """Complete a step that calls no user code with `output`, journaled, and hand it back."""
        now = inv.now()
        rec.status, rec.output, rec.ended_at = "completed", output, now
        if not rec.attempts:
            rec.attempts.append(Attempt(started_at=rec.started_at or now))
        rec.attempts[-1].ended_at = now
        inv.engine.store.save_step(rec)
        inv.emit(
            "step",
            step_id=rec.id,
            status="completed",
            attempt=1,
            duration_ms=now - (rec.started_at or now),
        )
        return Plan(rec.id, done=Outcome(self.replayed(rec.output)))

    def hold(
        self,
        inv: Host,
        rec: StepRecord,
        wake_at: int | None,
        detail: dict[str, Any],
        run_detail: dict[str, Any] | None = None,
        reason: str | None = None,
        save: Callable[[RunRecord, StepRecord], Any] | None = None,
    ) -> NoReturn:
        """Suspend the run in `run_status` while the step is under way, journaled, and unwind."""
        rec.status = "running"
        signal = inv.suspend(self.run_status, wake_at, reason)
        if save is None:
            inv.engine.store.save_step(rec, run=inv.run)
        else:
            save(inv.run, rec)
        inv.emit("step", step_id=rec.id, status="running", detail=detail)
        if run_detail is None:
            run_detail = dict(detail)
        inv.emit("run", status=self.run_status, detail=run_detail)
        raise signal


def seconds(value: Any) -> float:
    """A duration given as seconds or a timedelta, in seconds."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected seconds or a timedelta, got {type(value).__name__}")
