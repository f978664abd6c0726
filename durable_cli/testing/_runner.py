"""`run_function`: one run of one function through the real engine, on virtual time."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..engine import CRON_EVENT, Engine, Registry, VirtualClock, actions, next_tick
from ..engine._tracing import add_trace
from ..sdk import Event, Function
from ..sdk._typed import plain_data
from ..store import RunRecord, new_id
from . import _observe
from ._faults import Interceptor
from ._feed import EventFeeder
from ._read import read_result
from ._results import RunResult
from ._scratch import Bench, scratch
from ._serve import off_loop, serve_until_idle

__all__ = ["run_function"]

_DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class _Plan:
    fn: Function
    registry: Registry
    event: dict[str, Any]
    interceptor: Interceptor
    feeder: EventFeeder
    start_ms: int | None
    timeout: float
    state_dir: str | None


def run_function(
    fn: Function,
    data: Mapping[str, Any] | None = None,
    *,
    event: str | Event | Mapping[str, Any] | None = None,
    fail: Mapping[str, Any] | None = None,
    stub: Mapping[str, Any] | None = None,
    events: Mapping[str, Any] | None = None,
    functions: Iterable[Function] = (),
    start_at: datetime | None = None,
    timeout: float = _DEFAULT_TIMEOUT_S,
    state_dir: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Run `fn` for one event to its end on a throw-away journal, in virtual time.

    `data` is the event's data; `event` its name (default: the function's first trigger), or an
    `Event`/dict with name, data, id and ts. `fail={"step": N}` fails the first N attempts of a
    step; an exception (or class) instead of N is raised on every attempt, a list one per
    attempt (None lets that attempt through), a callable `attempt -> exception | None` decides
    per attempt. `stub={"step": value}` returns value without calling the step's callable; a
    callable stub is called with the step's arguments instead (a spy). `events={"name": data}`
    sends that event when the run waits for one of that name (a list: one per wait; None: let
    that wait time out); without it every wait times out. `functions` are loaded
    beside `fn` (for `step.invoke` and `step.send_event`). `start_at` sets the virtual clock's
    start. `timeout` bounds the wall-clock time (a TimeoutError shows the timeline so far).
    `state_dir` keeps the journal there for inspection instead of a removed temp dir.
    """
    plan = _prepare(fn, data, event, fail, stub, events, functions, start_at, timeout, state_dir)
    result = off_loop(lambda: _execute(plan))
    _warn_unused(plan, result)
    _observe.report(result)
    return result


def _prepare(
    fn: Any,
    data: Any,
    event: Any,
    fail: Any,
    stub: Any,
    events: Any,
    functions: Iterable[Any],
    start_at: Any,
    timeout: Any,
    state_dir: Any,
) -> _Plan:
    """Check every argument before anything is written."""
    if not isinstance(fn, Function):
        raise TypeError(
            f"run_function needs a function decorated with @durable.function, got {fn!r}"
        )
    others = list(functions)
    for other in others:
        if not isinstance(other, Function):
            raise TypeError(f"functions= takes decorated functions, got {other!r}")
    registry = Registry([fn, *others])
    if start_at is not None and not isinstance(start_at, datetime):
        raise TypeError(f"start_at must be a datetime, got {type(start_at).__name__}")
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise TypeError("timeout must be a positive number of seconds")
    if state_dir is not None:
        folder = os.fspath(state_dir)
        if os.path.isdir(folder) and os.listdir(folder):
            # an old journal's unfinished runs would resume beside this one
            raise ValueError(f"state_dir {folder} is not empty: give a new or empty folder")
    return _Plan(
        fn=fn,
        registry=registry,
        event=_event_fields(fn, data, event),
        interceptor=Interceptor(fail, stub),
        feeder=EventFeeder(events),
        start_ms=None if start_at is None else int(start_at.timestamp() * 1000),
        timeout=float(timeout),
        state_dir=None if state_dir is None else os.fspath(state_dir),
    )


def _event_fields(fn: Function, data: Any, event: Any) -> dict[str, Any]:
    """Name, data, id and ts of the triggering event (validated later by `make_event`)."""
    default = fn.triggers[0] if fn.triggers else f"invoke/{fn.id}"
    if not fn.triggers and fn.options.cron:
        default = CRON_EVENT  # a cron function's run is one tick: see `_serve`
    fields: dict[str, Any] = {"name": default, "data": None, "id": None, "ts": None}
    if isinstance(event, str):
        fields["name"] = event
    elif isinstance(event, Event):
        fields.update(name=event.name, data=event.data or None, id=event.id or None)
        fields["ts"] = event.ts or None
    elif isinstance(event, Mapping):
        unknown = set(event) - {"name", "data", "id", "ts"}
        if unknown:
            raise TypeError(f"event= has unknown keys: {', '.join(sorted(unknown))}")
        fields.update({k: v for k, v in event.items() if v is not None})
    elif event is not None:
        raise TypeError(f"event= must be a name, an Event or a dict, not {type(event).__name__}")
    if data is not None:
        if fields["data"]:
            raise TypeError("give the event's data once: in data= or in event=, not both")
        fields["data"] = dict(data) if isinstance(data, Mapping) else plain_data(data)
    return fields


def _execute(plan: _Plan) -> RunResult:
    """Create the run on a fresh journal, serve the engine until it is idle, read the result."""
    with scratch(plan.state_dir) as bench:
        return _serve(plan, bench)


def _serve(plan: _Plan, bench: Bench) -> RunResult:
    store, clock = bench.store, VirtualClock(plan.start_ms)
    engine = Engine(
        store,
        plan.registry,
        clock=clock,
        interceptor=plan.interceptor,
        # no listener when there is nothing to feed: the engine then builds no change per step
        listeners=[plan.feeder] if plan.feeder.listens else [],
        workers=bench.workers,
    )
    fields = plan.event
    if fields["name"] == CRON_EVENT and plan.fn.options.cron and fields["data"] is None:
        # a cron tick on virtual time: the clock moves to the schedule's next tick and the run
        # gets the event the scheduler would have sent
        tick = next_tick(plan.fn.options.cron, clock.now_ms())
        clock.advance(tick - clock.now_ms())
        fields = {
            **fields,
            "data": {"cron": plan.fn.options.cron, "scheduled_at": tick, "skipped_ticks": 0},
        }
    now = clock.now_ms()
    event = actions.make_event(
        fields["name"], fields["data"], event_id=fields["id"], ts=fields["ts"] or now
    )
    add_trace(event)  # the caller's span, if any, is the run's parent (as for `send`)
    bench.engine = engine  # the bench closes it
    with store.batch():  # one commit for the engine's lease, the event and the run
        # the lease first, so the run is the engine's own from the start, as a run it makes
        # from an event is: it then starts with no claim and no read of the journal
        owner = engine.lease.start()
        run = RunRecord(
            id=new_id(now),
            function=plan.fn.id,
            event=event,
            status="queued",
            created_at=now,
            owner=owner,
        )
        # recorded, not queued: only `fn` runs for it, whatever else shares its trigger
        store.put_event(event, queue=False)
        store.create_runs([run])
    plan.interceptor.run_id = plan.feeder.run_id = run.id
    plan.feeder.engine = engine
    engine.schedule.keep_fresh(run)
    serve_until_idle(
        engine,
        bench.loop,
        run.id,
        plan.timeout,
        f"run_function: {plan.fn.id!r}",
        lambda: read_result(store, run.id, plan.interceptor).timeline(),
    )
    return read_result(store, run.id, plan.interceptor)


def _warn_unused(plan: _Plan, result: RunResult) -> None:
    """A fail=/stub=/events= entry nothing used is most likely a typo: say so."""
    icpt, fn_id = plan.interceptor, plan.fn.id
    ran = ", ".join(result.step_ids) or "none"
    for key in sorted(icpt.keys - icpt.used):
        warnings.warn(
            f"run_function({fn_id!r}): no step {key!r} ran, so its fail=/stub= entry was "
            f"never used (steps that ran: {ran})",
            stacklevel=3,
        )
    for name in plan.feeder.unused:
        warnings.warn(
            f"run_function({fn_id!r}): events= has data for {name!r} that no wait_for_event used",
            stacklevel=3,
        )
