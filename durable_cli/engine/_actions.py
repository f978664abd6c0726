"""What a user can do to the journal, with or without a runner up: the CLI and TUI share these.

Each function validates first and raises `InputError` before writing anything.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..store import PendingFailure, RunRecord, StepRecord, Store, failure_key, new_id
from ._events import MAX_EVENT_BYTES, STEP_ID, make_event
from ._events import now_ms as _wall_ms

# the flags naming the functions whose new runs start in step mode: a prefix, then the function id
STEP_MODE_FLAGS = "stepmode/"

__all__ = [
    "MAX_EVENT_BYTES",
    "STEP_MODE_FLAGS",
    "cancel_run",
    "clear_all_failures",
    "clear_failure",
    "continue_run",
    "end_sleeps",
    "find_run",
    "inject_failure",
    "make_event",
    "next_step",
    "paused_for_step",
    "queue_event",
    "replay_run",
    "resume_stepped",
    "retry_now",
    "set_step_mode",
    "submit_event",
    "validate_failure",
]


def submit_event(store: Store, event: dict[str, Any]) -> str:
    """Queue an event built by `make_event` and poke the runner; returns its id (idempotent)."""
    store.put_event(event)
    store.notify()
    return event["id"]


def queue_event(store: Store, name: str, data: Any = None, *, event_id: str | None = None) -> str:
    """Queue an event for the runner and poke it; returns the event id (idempotent by id)."""
    return submit_event(store, make_event(name, data, event_id=event_id))


def find_run(store: Store, run_id: str) -> RunRecord:
    """A run by id, or by a unique prefix or suffix of it; InputError when there is none, or
    when several runs match (it names a few, so the user can pick one)."""
    run = store.get_run(run_id) if run_id else None
    if run is None:
        shown = 3
        ids, total = store.match_run_ids(run_id or "", shown)
        if total > 1:
            part = "prefix" if ids[0].startswith(run_id.strip().upper()) else "suffix"
            more = f" and {total - shown} more" if total > shown else ""
            raise InputError(
                f"run id {part} {run_id!r} matches {total} runs: {', '.join(ids)}{more}"
            )
        run = store.get_run(ids[0]) if ids else None
    if run is None:
        raise InputError(f"no run with id {run_id!r}")
    return run


def cancel_run(store: Store, run_id: str, now_ms: int | None = None) -> RunRecord:
    """Cancel a run that has not finished (InputError if it has)."""
    run = find_run(store, run_id)
    if run.finished:
        raise InputError(f"run {run.id} has already {run.status}")
    run.status = "cancelled"
    run.ended_at = _wall_ms() if now_ms is None else now_ms
    run.wake_at = None
    run.reason = "cancelled by user"
    with store.batch():
        store.save_run(run)
        for step in store.load_steps(run.id):
            if step.kind == "wait" and step.status != "completed":
                store.set_flag(f"wait/{step.meta['event']}/{run.id}", None)
    store.notify()
    return run


def validate_failure(
    step_id: str,
    *,
    run_id: str | None = None,
    function_id: str | None = None,
    times: int = 1,
    known_functions: Any = None,
) -> None:
    """The checks of `inject_failure` that need no store (callers run them before creating one)."""
    _check_step_and_scope(step_id, run_id, function_id)
    if times == 0 or times < -1:
        raise InputError("--times must be 1 or more")
    if (
        function_id is not None
        and known_functions is not None
        and function_id not in known_functions
    ):
        raise InputError(f"no function with id {function_id!r}")


def inject_failure(
    store: Store,
    step_id: str,
    *,
    run_id: str | None = None,
    function_id: str | None = None,
    times: int = 1,
    message: str = "",
    known_functions: Any = None,
) -> str:
    """Make the next `times` attempts (-1: every one) of a step fail; returns the scope key."""
    validate_failure(
        step_id,
        run_id=run_id,
        function_id=function_id,
        times=times,
        known_functions=known_functions,
    )
    if run_id is not None:
        run = find_run(store, run_id)
        if run.finished:
            raise InputError(f"run {run.id} has already {run.status}")
        journal = store.load_steps(run.id)
        done = [s for s in journal if s.id == step_id and s.status in ("completed", "failed")]
        if done:
            raise InputError(f"step {step_id!r} of run {run.id} has already {done[0].status}")
        run_id = run.id
    key = failure_key(step_id, run_id=run_id, function_id=function_id)
    store.add_failure(key, times, message)
    store.notify()
    return key


def clear_failure(
    store: Store, step_id: str, *, run_id: str | None = None, function_id: str | None = None
) -> PendingFailure:
    """Remove the pending failure of a run's or a function's step; returns what was removed.

    Nothing pending there is an InputError that lists what is pending for that step instead,
    so a mistyped id or the other scope is caught rather than silently "cleared".
    """
    _check_step_and_scope(step_id, run_id, function_id)
    if run_id is not None:
        run_id = find_run(store, run_id).id
    key = failure_key(step_id, run_id=run_id, function_id=function_id)
    pending = store.failures()
    if key not in pending:
        where = f"run {run_id}" if run_id is not None else f"function {function_id}"
        others = [
            PendingFailure.from_store(k, v).scope
            for k, v in sorted(pending.items())
            if k.endswith(f"/{step_id}")
        ]
        elsewhere = f" (it has one for: {'; '.join(others)})" if others else ""
        raise InputError(
            f"no injected failure is pending for step {step_id!r} in {where}{elsewhere}"
        )
    removed = PendingFailure.from_store(key, pending[key])
    store.add_failure(key, 0, "")  # zero attempts left: the row goes
    store.notify()
    return removed


def clear_all_failures(store: Store) -> list[PendingFailure]:
    """Remove every pending injected failure; returns what was removed (maybe nothing)."""
    pending = store.failures()
    with store.batch():
        for key in pending:
            store.add_failure(key, 0, "")
    if pending:
        store.notify()
    return [PendingFailure.from_store(k, v) for k, v in sorted(pending.items())]


def _check_step_and_scope(step_id: str, run_id: str | None, function_id: str | None) -> None:
    if not step_id or not STEP_ID.match(step_id):
        raise InputError(f"step id {step_id!r} is not valid")
    if (run_id is None) == (function_id is None):
        raise InputError("say which run (--run RUN_ID) or which function (--function FN_ID)")


def replay_run(
    store: Store, run_id: str, from_step: str | None = None, *, data: Any = None
) -> RunRecord:
    """Queue a new run with the same event; with `from_step`, earlier steps are copied over.

    With `data` (a JSON object), the new run's event carries it instead: a new event of the
    same name, recorded in the journal but not queued (only the new run takes it)."""
    source = find_run(store, run_id)
    event = source.event if data is None else make_event(source.event["name"], data)
    journal = sorted(store.load_steps(source.id), key=lambda s: s.seq)
    copied: list[StepRecord] = []
    now = _wall_ms()
    new = RunRecord(
        id=new_id(now),
        function=source.function,
        event=event,
        status="queued",
        replay_of=source.id,
        created_at=now,
        step_mode=source.step_mode,
    )
    if from_step is not None:
        ids = [s.id for s in journal]
        if from_step not in ids:
            known = ", ".join(ids) or "none"
            raise InputError(f"run {source.id} has no step {from_step!r} (its steps: {known})")
        for step in journal[: ids.index(from_step)]:
            if step.status != "completed":
                raise InputError(
                    f"step {step.id!r} before {from_step!r} did not complete; replay from it"
                )
            copied.append(
                StepRecord(
                    run_id=new.id,
                    id=step.id,
                    seq=step.seq,
                    kind=step.kind,
                    status="completed",
                    output=step.output,
                    attempts=step.attempts,
                    started_at=step.started_at,
                    ended_at=step.ended_at,
                    copied_from=source.id,
                    meta=step.meta,
                )
            )
        new.meta["replay_from"] = from_step
    with store.batch():
        if event is not source.event:
            store.put_event(event, queue=False)
        store.create_runs([new], copied)
        store.set_flag(f"runq/{new.id}", True)  # the runner's cue to pick it up
    store.notify()
    return new


def set_step_mode(
    store: Store, *, run_id: str | None = None, function_id: str | None = None, on: bool = True
) -> None:
    """Turn step-through on or off for a run, or for new runs of a function."""
    if run_id is not None:
        run = find_run(store, run_id)
        if run.finished:
            raise InputError(f"run {run.id} has already {run.status}")
        run.step_mode = on
        store.save_run(run)
    elif function_id is not None:
        store.set_flag(STEP_MODE_FLAGS + function_id, True if on else None)
    else:
        raise InputError("say which run or which function")
    store.notify()


def continue_run(store: Store, run_id: str) -> RunRecord:
    """Release a run held for a code change: go on with the new code, steps matched by id."""
    run = find_run(store, run_id)
    if run.status != "paused" or "code_change" not in run.meta:
        raise InputError(f"run {run.id} is {run.status}, not held for a code change")
    run.meta["ignore_code_change"] = True
    run.meta.pop("code_change", None)
    return _requeue(store, run)


def next_step(store: Store, run_id: str) -> RunRecord:
    """Step mode, from any process: let one more step of a run paused before it go (a runner
    up takes it at once; with none up, the next one to start does)."""
    with store.batch():  # looked at and changed in one transaction: no runner step between
        run = find_run(store, run_id)
        if not paused_for_step(store, run):
            raise InputError(f"run {run.id} is {run.status}, not paused in step mode")
        run.grants += 1
        return _requeue(store, run)


def resume_stepped(store: Store, run_id: str) -> RunRecord | None:
    """From any process, once step mode is off: a run paused before a step goes on (None: the
    run was not paused there, so nothing changed)."""
    with store.batch():
        run = find_run(store, run_id)
        return _requeue(store, run) if paused_for_step(store, run) else None


def paused_for_step(store: Store, run: RunRecord) -> bool:
    """Whether step mode holds `run` before a step (its journal has that step `paused`)."""
    return run.status == "paused" and any(s.status == "paused" for s in store.load_steps(run.id))


def retry_now(store: Store, run_id: str, now_ms: int | None = None) -> RunRecord:
    """From any process: skip the backoff of a retrying run or the rest of a sleep; the run goes
    on now (a runner up takes it at once; with none up, the next one to start does)."""
    with store.batch():
        run = find_run(store, run_id)
        if run.status not in ("retrying", "sleeping"):
            raise InputError(f"run {run.id} is {run.status}, not retrying or sleeping")
        end_sleeps(store, run, _wall_ms() if now_ms is None else now_ms)
        run.wake_at = None
        return _requeue(store, run)


def end_sleeps(store: Store, run: RunRecord, now_ms: int) -> None:
    """Make the unfinished sleeps of `run` due at `now_ms` (the step sees its time has come)."""
    for rec in store.load_steps(run.id):
        if rec.kind == "sleep" and rec.status != "completed":
            rec.meta["until"] = now_ms
            store.save_step(rec)


def _requeue(store: Store, run: RunRecord) -> RunRecord:
    """Queue a suspended run again and leave the runner its cue (runs queued by another process
    are picked up from these notes when it is poked, or when it starts)."""
    run.status, run.reason = "queued", None
    with store.batch():
        store.save_run(run)
        store.set_flag(f"runq/{run.id}", True)
    store.notify()
    return run
