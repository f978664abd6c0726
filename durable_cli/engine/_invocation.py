"""One call of a handler for one run: the replay core behind every `step` method.

The sdk's `Step` and `AsyncStep` call `begin` and `complete`; everything that decides what a step
does (replay, injected failure, step mode, retry, journaling, code-change checks) lives here once.
"""

from __future__ import annotations

import threading
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import (
    ControlFlow,
    InjectedFailure,
    OutputNotStorableError,
    RunCancelled,
    StateError,
    StepError,
    Suspend,
    is_retriable,
)
from ..sdk import AsyncStep, Event, Function, Outcome, Plan, Step
from ..store import Attempt, RunRecord, StepRecord, dumps, loads
from ._backoff import retry_delay_s
from ._describe import describe_error
from ._listener import Change
from ._tools import ToolSteps

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Invocation", "Verdict"]


class _JournalFailed(ControlFlow):
    """A step's result could not be journaled (disk full…): unwinds the handler uncatchably."""


_SETTLED = ("completed", "failed")

# a step write the shared core asks its driver for: the step, its run (written with it, for a
# retry or in step mode) and the injected failure it used up
Write = tuple[StepRecord, RunRecord | None, str | None]


@dataclass(slots=True)
class Verdict:
    """How an invocation ended: the run's new status and when to wake it, if ever."""

    status: str
    wake_at: int | None = None


class Invocation(ToolSteps):
    """Implements the sdk's `StepDriver` for one resume of one run."""

    def __init__(self, engine: Engine, fn: Function, run: RunRecord, journal: list[StepRecord]):
        """Bind to a run and its journal (loaded once for this invocation)."""
        self.engine = engine
        self.fn = fn
        self.run = run
        self.journal = {s.id: s for s in journal}
        self._order = sorted(journal, key=lambda s: s.seq)
        self._pos = 0  # how far through the journal's order the handler has come
        self._next_seq = (self._order[-1].seq + 1) if self._order else 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.cancelled = False
        self.verdict: Verdict | None = None

    # -- helpers ------------------------------------------------------------------------------
    def _now(self) -> int:
        return self.engine.clock.now_ms()

    def _emit(self, kind: str, **fields: Any) -> None:
        engine = self.engine
        if engine.has_listeners:  # a Change costs more than the rest of a step's bookkeeping
            run = self.run
            at = engine.clock.now_ms()
            engine.emit(Change(kind=kind, at=at, run_id=run.id, function=run.function, **fields))

    def _emit_step(
        self, at: int, sid: str, status: str, attempt: int, duration_ms: int | None = None
    ) -> None:
        """`_emit` for the two changes every step makes (it starts, it completes)."""
        engine = self.engine
        if engine.has_listeners:
            run = self.run
            # positional: matching keywords cost more than building the rest of the Change
            change = Change("step", at, run.id, run.function, sid, status, attempt, duration_ms)
            engine.emit(change)

    def _resolve(self, step_id: str) -> str:
        with self._lock:  # async handlers may ask from several tasks; ids follow call order
            n = self._counts.get(step_id, 0)
            self._counts[step_id] = n + 1
        return step_id if n == 0 else f"{step_id}:{n}"

    def _new_record(
        self, sid: str, kind: str, now: int | None = None, /, **meta: Any
    ) -> StepRecord:
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
        started = self._now() if now is None else now
        rec = StepRecord(self.run.id, sid, seq, kind=kind, started_at=started, meta=meta)
        self.journal[sid] = rec
        return rec

    def _suspend(self, status: str, wake_at: int | None, reason: str | None = None) -> Suspend:
        previous = self.verdict
        if previous is not None and previous.wake_at is not None and wake_at is not None:
            wake_at = min(wake_at, previous.wake_at)  # parallel steps: the first retry wakes it
        self.run.status = status
        self.run.wake_at = wake_at
        self.run.reason = reason
        self.verdict = Verdict(status, wake_at)
        return Suspend(status)

    def _check_order(self, sid: str, rec: StepRecord | None) -> None:
        """Hold the run when the code asks for steps in an order its journal contradicts.

        The steps a handler asks for must follow the journal's order: a journaled step asked
        out of turn, or a new step asked while journaled ones are still ahead, means the code
        changed under the run, and a journaled result could reach the wrong step.
        """
        if self.run.meta.get("ignore_code_change"):
            return
        order, pos = self._order, self._pos
        # unfinished steps the code no longer asks for (renamed while retrying): pass over them
        while pos < len(order) and order[pos].id != sid and order[pos].status not in _SETTLED:
            pos += 1
        if pos >= len(order) or order[pos].id == sid:
            self._pos = pos + 1
            return
        expected = order[pos]
        asks = "asks for" if rec is not None else "would run new step"
        reason = (
            f"code changed: at step {pos + 1} the code {asks} {sid!r}"
            f" where the journal has {expected.id!r}"
        )
        self._hold_code_changed(reason, first=expected.id, new=sid)

    def _hold_code_changed(self, reason: str, *, first: str, new: str) -> None:
        self.run.meta["code_change"] = {"journal_step": first, "code_step": new}
        err = self._suspend("paused", None, reason)
        self.engine.store.save_run(self.run)
        self._emit(
            "code_changed",
            status="paused",
            step_id=new,
            error=reason,
            detail={"journal_step": first, "code_step": new},
        )
        self._emit("run", status="paused", error=reason)
        raise err

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
        if rec is not None and rec.kind != kind and rec.status != "paused":
            self._hold_code_changed(
                f"code changed: step {sid!r} was a {rec.kind!r} step and is now a {kind!r} step",
                first=sid,
                new=sid,
            )
        self._check_order(sid, rec)
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
        if kind == "run":  # nine steps in ten: no handler lookup by name
            return self._begin_run(sid, rec, opts.get("retries"))
        handler = getattr(self, f"_begin_{kind}")
        return handler(sid, rec, **opts)

    def _replayed_value(self, rec: StepRecord) -> Any:
        if rec.kind == "wait" and rec.output is not None:
            return Event.from_dict(rec.output)
        return rec.output

    def complete(self, plan: Plan, outcome: Outcome) -> Any:
        """Journal an executed `run` step: its value, a retry (suspend) or a failure."""
        return self._drive(self._complete(plan, outcome))

    def acomplete(self, plan: Plan, outcome: Outcome) -> Coroutine[Any, Any, Any]:
        """`complete` for an `async def` handler: the write joins the loop's shared commit."""
        # the driver's coroutine itself, not one wrapping it: a layer less on every resume
        return self._adrive(self._complete(plan, outcome))

    def _complete(self, plan: Plan, outcome: Outcome) -> Generator[Write, Any, Any]:
        rec, retries, inject_key = plan.token
        now = self._now()
        attempt = rec.attempts[-1]
        attempt.ended_at = now
        if outcome.ok:
            try:
                value = _as_stored(outcome.value)
            except (TypeError, ValueError) as exc:
                outcome = Outcome(
                    error=OutputNotStorableError(rec.id, type(outcome.value).__name__, str(exc))
                )
            else:
                rec.status, rec.output, rec.error, rec.ended_at = "completed", value, None, now
                yield self._write(rec, inject_key)
                made = len(rec.attempts)
                self._emit_step(now, rec.id, "completed", made, now - attempt.started_at)
                return value
        err = outcome.error
        assert err is not None
        if isinstance(err, ControlFlow | KeyboardInterrupt | SystemExit):
            raise err
        attempt.error = describe_error(err)
        attempt.injected = isinstance(err, InjectedFailure)
        rec.error = attempt.error
        allowed = self.fn.retries if retries is None else retries
        made = len(rec.attempts)
        if is_retriable(err) and made <= allowed:
            wake = now + int(retry_delay_s(self.fn.backoff, made, err) * 1000)
            rec.status = "retrying"
            signal = self._suspend("retrying", wake)
            yield self._write(rec, inject_key, with_run=True)
            self._emit_attempt(rec, err, wake_at=wake)
            self._emit("run", status="retrying", detail={"wake_at": wake})
            raise signal
        rec.status, rec.ended_at = "failed", now
        yield self._write(rec, inject_key)
        self._emit_attempt(rec, err)
        raise StepError.from_dict(rec.id, rec.error, made) from err

    def _emit_attempt(self, rec: StepRecord, err: BaseException, **detail: Any) -> None:
        attempt = rec.attempts[-1]
        self._emit(
            "step",
            step_id=rec.id,
            status=rec.status,
            attempt=len(rec.attempts),
            duration_ms=(attempt.ended_at or attempt.started_at) - attempt.started_at,
            error=_short(err),
            detail=detail,
        )

    def _write(self, rec: StepRecord, inject_key: str | None, with_run: bool = False) -> Write:
        run = self.run if (with_run or self.run.step_mode) else None
        return (rec, run, inject_key)

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

    # -- step kinds -------------------------------------------------------------------------
    def _step_mode_gate(self, sid: str, rec: StepRecord | None, kind: str) -> StepRecord | None:
        """In step mode, pause before each attempt until the user grants one (`n`)."""
        if not self.run.step_mode:
            return rec
        if self.run.grants > 0:
            self.run.grants -= 1
            return rec
        if rec is None:
            rec = self._new_record(sid, kind)
            rec.started_at = None  # it starts when it runs, not while it waits for `n`
        rec.status = "paused"
        signal = self._suspend("paused", None, f"step mode: paused before {sid!r}")
        self.engine.store.save_step(rec, run=self.run)
        self._emit("step", step_id=sid, status="paused")
        self._emit("run", status="paused", detail={"reason": self.run.reason})
        raise signal

    def _begin_run(self, sid: str, rec: StepRecord | None, retries: int | None = None) -> Plan:
        rec = self._step_mode_gate(sid, rec, "run")
        now = self._now()
        if rec is None:
            rec = self._new_record(sid, "run", now)
        rec.status = "running"
        rec.attempts.append(Attempt(started_at=now))
        if rec.started_at is None:
            rec.started_at = now
        self._emit_step(now, sid, "running", len(rec.attempts))
        injected = self.engine.take_injection(self.run, sid)
        if injected is None:
            hook = self.engine.interceptor
            call = None if hook is None else hook(self.run, sid, len(rec.attempts))
            return Plan(sid, None, (rec, retries, None), call)  # positional: cheaper to build
        key, message = injected
        plan = Plan(sid, token=(rec, retries, key))
        failure = Outcome(error=InjectedFailure(message or f"injected failure of {sid!r}"))
        return Plan(sid, done=Outcome.capture(self.complete, plan, failure))

    # -- the handler ------------------------------------------------------------------------
    def _event(self) -> Event:
        return Event.from_dict(self.run.event)

    def call_sync(self) -> Verdict:
        """Call a `def` handler (in a worker thread) and settle the run."""
        outcome = Outcome.capture(self.fn.handler, self._event(), Step(self))
        return self._drive(self._settle(outcome))

    async def call_async(self) -> Verdict:
        """Await an `async def` handler and settle the run."""
        outcome = await Outcome.acapture(self.fn.handler(self._event(), AsyncStep(self)))
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
        run, now = self.run, self._now()
        if err is None:
            try:
                run.output = _as_stored(outcome.value)
            except (TypeError, ValueError) as exc:
                err = OutputNotStorableError(
                    "(return value)", type(outcome.value).__name__, str(exc)
                )
        run.status = "completed" if err is None else "failed"
        run.error = None if err is None else describe_error(err)
        run.ended_at, run.wake_at, run.reason = now, None, None
        if not (yield run):
            return Verdict("cancelled")  # cancelled while it ran: the cancel stands
        duration = now - (run.started_at or now)
        self.engine.emit_run(
            run, run.status, duration_ms=duration, error=None if err is None else _short(err)
        )
        return Verdict(run.status)


_SCALARS = (int, str, bool, type(None))  # JSON gives these back as they are (not float: NaN)


def _as_stored(value: Any) -> Any:
    """`value` as a replay will see it: what its JSON reads back as (tuples become lists…)."""
    return value if type(value) in _SCALARS else loads(dumps(value))


def _short(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"
