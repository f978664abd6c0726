"""One call of a handler for one run: the replay core behind every `step` method.

The sdk's `Step` and `AsyncStep` call `begin` and `complete`. This decides, once for every kind,
what a step asked for means against the journal (its id, its order, replay, code-change holds)
and drives the journal writes; what a new step of a kind does lives in that kind's module
(`kinds/`), which works through this class's public methods (the `kinds.Host` surface).
"""

from __future__ import annotations

import threading
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import (
    ControlFlow,
    InputError,
    RunCancelled,
    StateError,
    StepError,
    Suspend,
)
from ..sdk import AsyncStep, Event, Function, Outcome, Plan, Step
from ..store import RunRecord, StepRecord
from ._describe import describe_error
from ._history import History, Mismatch
from ._listener import Change
from ._tracing import run_span
from ._typed import typed_event
from ._values import not_storable, short_error, stored_result
from .kinds import KINDS, RUN, Write

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Invocation", "Verdict"]


class _JournalFailed(ControlFlow):
    """A step's result could not be journaled (disk full…): unwinds the handler uncatchably."""


# the `run` kind under a name of this module's own: CPython 3.11 compiles `name.method(...)` on
# an imported name as an attribute load plus a call (it guesses a module), which makes a bound
# method on every step; on an assigned name the call takes the method-call fast path
_RUN = RUN


@dataclass(slots=True)
class Verdict:
    """How an invocation ended: the run's new status and when to wake it, if ever."""

    status: str
    wake_at: int | None = None


class Invocation:
    """Implements the sdk's `StepDriver` for one resume of one run, and `kinds.Host` for kinds."""

    def __init__(self, engine: Engine, fn: Function, run: RunRecord, journal: list[StepRecord]):
        """Bind to a run and its journal (loaded once for this invocation)."""
        self.engine = engine
        self.fn = fn
        self.run = run
        self.journal = {s.id: s for s in journal}
        meta = run.meta
        # the journal's order and how far the handler has come through it; a run let go on
        # after a code-change hold matches its steps by id only
        self._history = History(journal, ordered=not meta.get("ignore_code_change"))
        # testing.replay's runs: the journal is all there is, a step it lacks is never begun
        self._journal_only = bool(meta.get("journal_only"))
        order = self._history.order
        self._next_seq = (order[-1].seq + 1) if order else 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.cancelled = False
        self.verdict: Verdict | None = None

    # -- kinds.Host: what step kinds may use ------------------------------------------------
    def now(self) -> int:
        """The engine clock's time, epoch milliseconds."""
        return self.engine.clock.now_ms()

    def emit(self, kind: str, **fields: Any) -> None:
        """Tell the engine's listeners about a change of this run (skipped when none listen)."""
        engine = self.engine
        if engine.has_listeners:  # a Change costs more than the rest of a step's bookkeeping
            run = self.run
            at = engine.clock.now_ms()
            engine.emit(Change(kind=kind, at=at, run_id=run.id, function=run.function, **fields))

    def emit_step(
        self, at: int, sid: str, status: str, attempt: int, duration_ms: int | None = None
    ) -> None:
        """`emit` for the two changes every `run` step makes (it starts, it completes)."""
        engine = self.engine
        if engine.has_listeners:
            run = self.run
            # positional: matching keywords cost more than building the rest of the Change
            change = Change("step", at, run.id, run.function, sid, status, attempt, duration_ms)
            engine.emit(change)

    def new_record(self, sid: str, kind: str, now: int | None = None, /, **meta: Any) -> StepRecord:
        """A new step record, next in the run's order, known to this invocation's journal."""
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
        started = self.now() if now is None else now
        rec = StepRecord(self.run.id, sid, seq, kind=kind, started_at=started, meta=meta)
        self.journal[sid] = rec
        return rec

    def suspend(self, status: str, wake_at: int | None, reason: str | None = None) -> Suspend:
        """Set the run's new status and wake time; return the signal that unwinds the handler."""
        previous = self.verdict
        if previous is not None and previous.wake_at is not None and wake_at is not None:
            wake_at = min(wake_at, previous.wake_at)  # parallel steps: the first retry wakes it
        self.run.status = status
        self.run.wake_at = wake_at
        self.run.reason = reason
        self.verdict = Verdict(status, wake_at)
        return Suspend(status)

    # -- the order of steps -----------------------------------------------------------------
    def _resolve(self, step_id: str) -> str:
        with self._lock:  # async handlers may ask from several tasks; ids follow call order
            n = self._counts.get(step_id, 0)
            self._counts[step_id] = n + 1
        return step_id if n == 0 else f"{step_id}:{n}"

    def _hold_code_changed(self, mismatch: Mismatch) -> Suspend:
        """Hold the run (paused) where its code contradicts its journal: a journaled result
        could otherwise reach the wrong step. Returns the signal that unwinds the handler."""
        reason, detail = mismatch.reason(), mismatch.detail()
        journal_step, code_step = detail["journal_step"], detail["code_step"]
        self.run.meta["code_change"] = {"journal_step": journal_step, "code_step": code_step}
        err = self.suspend("paused", None, reason)
        self.engine.store.save_run(self.run)
        self.emit("code_changed", status="paused", step_id=code_step, error=reason, detail=detail)
        self.emit("run", status="paused", error=reason)
        return err

    def _stop_at_history_end(self, sid: str, kind: str, rec: StepRecord | None) -> Suspend:
        """A journal-only run asks for a step its journal lacks (or had not settled): the
        history ends here, so the run stops (paused) without beginning it."""
        position = len(self._history.asked)
        status = None if rec is None else rec.status
        what = "is not in the history" if rec is None else f"is {status} in the history"
        reason = f"history ended: step {position} {sid!r} ({kind}) {what}"
        err = self.suspend("paused", None, reason)
        self.engine.store.save_run(self.run)
        end = {"position": position, "step": sid, "kind": kind, "status": status}
        self.emit("run", status="paused", error=reason, detail={"history_end": end})
        return err

    def run_coroutine(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the engine loop from a sync handler's thread."""
        return self.engine.run_coroutine_threadsafe(coro)

    # -- StepDriver -------------------------------------------------------------------------
    def begin(self, kind: str, step_id: str, **opts: Any) -> Plan:
        """Replay a journaled step, or prepare (or perform) a new one."""
        if self.cancelled:
            raise RunCancelled(self.run.id)
        sid = self._resolve(step_id)
        rec = self.journal.get(sid)
        mismatch = self._history.ask(sid, kind, rec)
        if mismatch is not None:
            raise self._hold_code_changed(mismatch)
        if rec is not None:
            if rec.status == "completed":
                return Plan(sid, done=Outcome(self._replayed_value(rec)))
            if rec.status == "failed":
                return Plan(
                    sid,
                    done=Outcome(
                        error=StepError.from_dict(sid, rec.error or {}, len(rec.attempts))
                    ),
                )
        if self._journal_only:
            raise self._stop_at_history_end(sid, kind, rec)
        if kind == "run":  # nine steps in ten: no lookup in the table
            return _RUN.begin(self, sid, rec, opts.get("retries"))
        return KINDS[kind].begin(self, sid, rec, **opts)

    def _replayed_value(self, rec: StepRecord) -> Any:
        if rec.kind == "run":  # a plain step's output is its value
            return rec.output
        return KINDS[rec.kind].replayed(rec.output)

    def complete(self, plan: Plan, outcome: Outcome) -> Any:
        """Journal an executed `run` step: its value, a retry (suspend) or a failure."""
        return self._drive(_RUN.complete(self, plan, outcome))

    def acomplete(self, plan: Plan, outcome: Outcome) -> Coroutine[Any, Any, Any]:
        """`complete` for an `async def` handler: the write joins the loop's shared commit."""
        # the driver's coroutine itself, not one wrapping it: a layer less on every resume
        return self._adrive(_RUN.complete(self, plan, outcome))

    # -- the journal writes the shared core asks for, made for a `def` or an `async def` ------
    # A step write that fails unwinds the handler (`_JournalFailed`); a run write that fails
    # raises the `StateError` itself: the handler is over by then.
    def _drive(self, core: Generator[Write | RunRecord, Any, Any]) -> Any:
        """Run `core` with each write it yields made here and now (a `def` handler's thread)."""
        store, result = self.engine.store, None
        try:
            while True:
                write = core.send(result)
                if isinstance(write, RunRecord):
                    result = store.save_run(write)
                    continue
                try:
                    result = store.save_step(write[0], run=write[1], consume=write[2])
                except StateError as exc:
                    raise _JournalFailed() from exc
        except StopIteration as stop:
            return stop.value

    async def _adrive(self, core: Generator[Write | RunRecord, Any, Any]) -> Any:
        """Run `core` on the loop, awaiting each write it yields in the loop's shared commit."""
        journal, result = self.engine.journal, None
        try:
            while True:
                write = core.send(result)
                if isinstance(write, RunRecord):
                    result = await journal.save_run(write)
                    continue
                step, run, consume = write
                try:
                    if run is None and consume is None:
                        result = await journal.save_step(step)
                    else:  # a retry (written with its run) or a used injected failure: rare
                        result = self.engine.store.save_step(step, run=run, consume=consume)
                except StateError as exc:
                    raise _JournalFailed() from exc
        except StopIteration as stop:
            return stop.value

    # -- the handler ------------------------------------------------------------------------
    def _event(self) -> Event:
        # with an event type, its data built as that type: InputError when it does not fit
        return typed_event(self.fn, Event.from_dict(self.run.event))

    def call_sync(self) -> Verdict:
        """Call a `def` handler (in a worker thread) and settle the run."""
        with run_span(self):  # a span when the application traces with OpenTelemetry
            try:
                event = self._event()
            except InputError as exc:  # the run fails at once: its data will never fit
                return self._drive(self._settle(Outcome(error=exc)))
            outcome = Outcome.capture(self.fn.handler, event, Step(self))
            return self._drive(self._settle(outcome))

    async def call_async(self) -> Verdict:
        """Await an `async def` handler and settle the run."""
        with run_span(self):
            try:
                event = self._event()
            except InputError as exc:
                return await self._adrive(self._settle(Outcome(error=exc)))
            outcome = await Outcome.acapture(self.fn.handler(event, AsyncStep(self)))
            return await self._adrive(self._settle(outcome))

    def _settle(self, outcome: Outcome) -> Generator[RunRecord, bool, Verdict]:
        err = outcome.error
        if isinstance(err, Suspend):
            assert self.verdict is not None
            return self.verdict
        if isinstance(err, RunCancelled):
            return Verdict("cancelled")
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise err
        if isinstance(err, _JournalFailed):
            err = err.__cause__
        if isinstance(err, StateError):
            raise err  # the journal failed, not the run: it stays as last committed, retried
        mismatch = self._history.unasked(None if err is None else short_error(err))
        if mismatch is not None:  # the code no longer asks for journaled steps
            self._hold_code_changed(mismatch)
            assert self.verdict is not None
            return self.verdict
        run, now = self.run, self.now()
        if err is None:
            try:
                run.output = stored_result(self.fn.handler, outcome.value)
            except (TypeError, ValueError) as exc:
                err = not_storable("(return value)", outcome.value, exc)
        run.status = "completed" if err is None else "failed"
        run.error = None if err is None else describe_error(err)
        run.ended_at, run.wake_at, run.reason = now, None, None
        if not (yield run):
            return Verdict("cancelled")  # cancelled while it ran: the cancel stands
        duration = now - (run.started_at or now)
        self.engine.emit_run(
            run, run.status, duration_ms=duration, error=None if err is None else short_error(err)
        )
        return Verdict(run.status)
