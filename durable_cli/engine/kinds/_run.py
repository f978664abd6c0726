"""`step.run`: call the user's callable once, journal its result, retry it on failure.

The only kind with user code: `begin` prepares an attempt (or pauses for step mode, or hands
back an injected failure), the sdk's facade calls the callable, and `complete` journals what
it returned or raised. Nine steps in ten are of this kind: `Invocation` reaches it without a
table lookup.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ...errors import ControlFlow, InjectedFailure, StepError, is_retriable
from ...sdk import Outcome, Plan
from ...store import Attempt, StepRecord
from .._backoff import retry_delay_s
from .._describe import describe_error
from .._values import as_stored, not_storable, short_error
from ._base import Host, Kind, Write

__all__ = ["RUN"]


class Run(Kind):
    """A plain step: the user's callable, retried with backoff."""

    name = "run"
    shows_output = True

    def begin(
        self, inv: Host, sid: str, rec: StepRecord | None, retries: int | None = None
    ) -> Plan:
        """Start an attempt: the facade calls the callable (or `plan.call`) unless it is done."""
        rec = self._step_mode_gate(inv, sid, rec)
        now = inv.now()
        if rec is None:
            rec = inv.new_record(sid, "run", now)
        rec.status = "running"
        rec.attempts.append(Attempt(started_at=now))
        if rec.started_at is None:
            rec.started_at = now
        inv.emit_step(now, sid, "running", len(rec.attempts))
        engine = inv.engine
        injected = engine.take_injection(inv.run, sid)
        if injected is None:
            hook = engine.interceptor
            call = None if hook is None else hook(inv.run, sid, len(rec.attempts))
            return Plan(sid, None, (rec, retries, None), call)  # positional: cheaper to build
        key, message = injected
        plan = Plan(sid, token=(rec, retries, key))
        failure = Outcome(error=InjectedFailure(message or f"injected failure of {sid!r}"))
        return Plan(sid, done=Outcome.capture(inv.complete, plan, failure))

    def _step_mode_gate(self, inv: Host, sid: str, rec: StepRecord | None) -> StepRecord | None:
        """In step mode, pause before each attempt until the user grants one (`n`)."""
        run = inv.run
        if not run.step_mode:
            return rec
        if run.grants > 0:
            run.grants -= 1
            return rec
        if rec is None:
            rec = inv.new_record(sid, "run")
            rec.started_at = None  # it starts when it runs, not while it waits for `n`
        rec.status = "paused"
        signal = inv.suspend("paused", None, f"step mode: paused before {sid!r}")
        inv.engine.store.save_step(rec, run=run)
        inv.emit("step", step_id=sid, status="paused")
        inv.emit("run", status="paused", detail={"reason": run.reason})
        raise signal

    def complete(self, inv: Host, plan: Plan, outcome: Outcome) -> Generator[Write, Any, Any]:
        """The journal writes for an executed attempt: its value, a retry (suspend) or a failure.

        A generator of writes, so one core serves a `def` handler (written at once) and an
        `async def` one (awaited in the loop's shared commit); the invocation drives it.
        """
        rec, retries, inject_key = plan.token
        now = inv.now()
        attempt = rec.attempts[-1]
        attempt.ended_at = now
        if plan.typed is not None:  # the type a typed value is journaled as (the TUI names it)
            rec.meta["type"] = plan.typed
        if outcome.ok:
            try:
                value = as_stored(outcome.value)
            except (TypeError, ValueError) as exc:
                outcome = Outcome(error=not_storable(rec.id, outcome.value, exc))
            else:
                rec.status, rec.output, rec.error, rec.ended_at = "completed", value, None, now
                yield _write(inv, rec, inject_key)
                made = len(rec.attempts)
                inv.emit_step(now, rec.id, "completed", made, now - attempt.started_at)
                return value
        err = outcome.error
        assert err is not None
        if isinstance(err, ControlFlow | KeyboardInterrupt | SystemExit):
            raise err
        attempt.error = describe_error(err)
        attempt.injected = isinstance(err, InjectedFailure)
        rec.error = attempt.error
        allowed = inv.fn.retries if retries is None else retries
        made = len(rec.attempts)
        if is_retriable(err) and made <= allowed:
            wake = now + int(retry_delay_s(inv.fn.backoff, made, err) * 1000)
            rec.status = "retrying"
            signal = inv.suspend("retrying", wake)
            yield _write(inv, rec, inject_key, with_run=True)
            _emit_attempt(inv, rec, err, wake_at=wake)
            inv.emit("run", status="retrying", detail={"wake_at": wake})
            raise signal
        rec.status, rec.ended_at = "failed", now
        yield _write(inv, rec, inject_key)
        _emit_attempt(inv, rec, err)
        raise StepError.from_dict(rec.id, rec.error, made) from err


def _write(inv: Host, rec: StepRecord, inject_key: str | None, with_run: bool = False) -> Write:
    run = inv.run if (with_run or inv.run.step_mode) else None
    return (rec, run, inject_key)


def _emit_attempt(inv: Host, rec: StepRecord, err: BaseException, **detail: Any) -> None:
    attempt = rec.attempts[-1]
    inv.emit(
        "step",
        step_id=rec.id,
        status=rec.status,
        attempt=len(rec.attempts),
        duration_ms=(attempt.ended_at or attempt.started_at) - attempt.started_at,
        error=short_error(err),
        detail=detail,
    )


RUN = Run()
