"""A run's result read back from its journal: the run, each step and each attempt."""

from __future__ import annotations

from typing import Any

from ..sdk import Event
from ..store import StepRecord, Store
from ._faults import Interceptor
from ._results import AttemptResult, ErrorInfo, RunResult, StepResult

__all__ = ["read_result"]


def read_result(
    store: Store,
    run_id: str,
    icpt: Interceptor,
    result_type: type[RunResult] = RunResult,
    **extra: Any,
) -> RunResult:
    """The result of a run (and of the child runs it invoked) from the journal.

    `result_type` and `extra` make the top run's result a subclass with fields of its own.
    """
    run = store.get_run(run_id)
    assert run is not None
    steps: dict[str, StepResult] = {}
    for rec in sorted(store.load_steps(run_id), key=lambda s: s.seq):
        steps[rec.id] = _step(run_id, rec, icpt)
    return result_type(
        id=run.id,
        function=run.function,
        status=run.status,
        output=run.output,
        error=ErrorInfo.from_record(run.error),
        event=Event.from_dict(run.event),
        steps=steps,
        started_at=run.started_at,
        ended_at=run.ended_at,
        reason=run.reason,
        children=[read_result(store, child, icpt) for child in run.children],
        **extra,
    )


def _step(run_id: str, rec: StepRecord, icpt: Interceptor) -> StepResult:
    log = []
    for number, attempt in enumerate(rec.attempts, start=1):
        action = icpt.actions.get((run_id, rec.id, number), "")
        if attempt.injected and not action:
            action = "injected"  # `durable fail` / engine.inject_failure: no interceptor asked
        log.append(
            AttemptResult(
                number=number,
                started_at=attempt.started_at,
                ended_at=attempt.ended_at,
                error=ErrorInfo.from_record(attempt.error),
                injected=attempt.injected,
                action=action,
            )
        )
    return StepResult(
        id=rec.id,
        kind=rec.kind,
        status=rec.status,
        attempts=len(rec.attempts),
        calls=icpt.calls[(run_id, rec.id)],
        output=rec.output,
        error=ErrorInfo.from_record(rec.error),
        errors=[a.error for a in log],
        attempt_log=log,
        started_at=rec.started_at,
        ended_at=rec.ended_at,
    )
