"""`replay`: a function's current code against the steps an exported run recorded.

The recorded run is written into a throw-away journal as a run that may only replay (its meta
says `journal_only`), and the real engine runs it on virtual time: each step the code asks for
is matched against the history by the same rules `durable dev` holds a changed run by
(`engine/_history.py`). A step that contradicts the history raises `NondeterminismError`; a
step the history does not have ends the replay there, before anything is called.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ..engine import Change, Engine, Registry, VirtualClock, load_export
from ..errors import InputError, NondeterminismError
from ..sdk import Function
from ..store import RunRecord, StepRecord, Store
from . import _observe
from ._faults import Interceptor
from ._read import read_result
from ._results import ReplayResult
from ._scratch import scratch
from ._serve import off_loop, serve_until_idle

__all__ = ["replay"]

_DEFAULT_TIMEOUT_S = 60.0


def replay(
    fn: Function,
    history: str | os.PathLike[str] | Mapping[str, Any],
    *,
    functions: Iterable[Function] | None = None,
    timeout: float = _DEFAULT_TIMEOUT_S,
) -> ReplayResult:
    """Run `fn`'s current code over the steps `history` recorded, calling none of them.

    `history` is an exported run (`durable export RUN_ID`): the file's path or its parsed
    dict. Each step the code asks for gets its recorded value back (or its recorded failure);
    the result is shaped like `run_function`'s, with `calls == 0` for every step. Where the
    code asks for a step that contradicts the history (another id or kind at that position), or
    ends without asking for a recorded step, `NondeterminismError` names the position, the
    recorded step and the requested one. Where the code goes on past the history (a run
    exported before it finished), the replay stops before that step: `result.history_ended`
    is True and `result.stopped_at` names it. `functions` are loaded beside `fn`, as in
    `run_function`. `timeout` bounds the wall-clock time.
    """
    if not isinstance(fn, Function):
        raise TypeError(f"replay needs a function decorated with @durable.function, got {fn!r}")
    others = list(functions or ())
    for other in others:
        if not isinstance(other, Function):
            raise TypeError(f"functions= takes decorated functions, got {other!r}")
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise TypeError("timeout must be a positive number of seconds")
    exported = load_export(history)
    if exported.run.function != fn.id:
        raise InputError(f"the history is a run of {exported.run.function!r}, not of {fn.id!r}")
    registry = Registry([fn, *others])
    result = off_loop(lambda: _execute(fn, registry, exported, float(timeout)))
    _observe.report(result)
    return result


class _Watch:
    """A listener that keeps what the engine says about the replayed run's history."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.mismatch: dict[str, Any] | None = None
        self.history_end: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def __call__(self, change: Change) -> None:
        if change.run_id != self.run_id:
            return
        with self._lock:
            if change.kind == "code_changed" and self.mismatch is None:
                self.mismatch = dict(change.detail)
            elif change.kind == "run" and "history_end" in change.detail:
                self.history_end = self.history_end or dict(change.detail["history_end"])


def _execute(fn: Function, registry: Registry, exported: Any, timeout: float) -> ReplayResult:
    recorded: RunRecord = exported.run
    steps: list[StepRecord] = exported.steps
    with scratch() as bench:
        store = bench.store
        clock = VirtualClock(recorded.started_at or recorded.created_at or None)
        icpt = Interceptor(None, None)
        icpt.run_id = recorded.id
        watch = _Watch(recorded.id)
        engine = bench.engine = Engine(
            store, registry, clock=clock, interceptor=icpt, listeners=[watch], workers=bench.workers
        )
        _seed(store, exported, clock.now_ms())
        serve_until_idle(
            engine,
            bench.loop,
            recorded.id,
            timeout,
            f"replay: {fn.id!r}",
            lambda: read_result(store, recorded.id, icpt).timeline(),
        )
        if watch.mismatch is not None:
            raise _nondeterminism(fn.id, steps, watch.mismatch)
        end = watch.history_end or {}
        return read_result(  # type: ignore[return-value]
            store,
            recorded.id,
            icpt,
            ReplayResult,
            history_ended=bool(end),
            stopped_at=end.get("step"),
            stopped_position=end.get("position"),
        )


def _seed(store: Store, exported: Any, now: int) -> None:
    """The recorded run, queued again as a run that may only replay, with its steps."""
    recorded = exported.run
    run = RunRecord(
        id=recorded.id,
        function=recorded.function,
        event=exported.event,
        status="queued",
        created_at=recorded.created_at or now,
        meta={"journal_only": True},
    )
    with store.batch():
        store.put_event(exported.event, queue=False)  # recorded, not queued: no run starts
        store.create_runs([run], exported.steps)


def _nondeterminism(
    function: str, steps: list[StepRecord], detail: dict[str, Any]
) -> NondeterminismError:
    code_step, code_kind = detail.get("code_step"), detail.get("code_kind")
    return NondeterminismError(
        detail["position"],
        (detail["journal_step"], detail["journal_kind"]),
        None if code_step is None else (code_step, code_kind),
        function=function,
        recorded_order=[(s.id, s.kind) for s in sorted(steps, key=lambda s: s.seq)],
        requested_order=[tuple(pair) for pair in detail.get("code_order", ())],
        ended_with=detail.get("ended_with"),
    )
