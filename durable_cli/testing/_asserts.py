"""`assert_run`: check a run in one call; a mismatch shows every difference and the timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._results import RunResult

__all__ = ["assert_run"]

_UNSET: Any = object()
_STEP_FIELDS = ("status", "attempts", "calls", "output", "kind")


def assert_run(
    result: RunResult,
    status: str | None = None,
    *,
    output: Any = _UNSET,
    error: str | None = None,
    step_ids: Sequence[str] | None = None,
    steps: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Assert on a run; the AssertionError lists each mismatch, then the run's timeline.

    `error` must occur in `str(result.error)`. `steps` maps a step id to the fields expected of
    it: any of status, attempts, calls, output, kind.
    """
    # pytest leaves this frame out of a failure report, so the mismatches come right after the
    # user's own call instead of under this function's source
    __tracebackhide__ = True
    if not isinstance(result, RunResult):
        raise TypeError(f"assert_run takes a RunResult, got {type(result).__name__}")
    problems: list[str] = []

    def check(label: str, expected: Any, actual: Any) -> None:
        if expected != actual:
            problems.append(f"{label}: expected {expected!r}, got {actual!r}")

    if status is not None:
        check("status", status, result.status)
    if output is not _UNSET:
        check("output", output, result.output)
    if error is not None:
        if result.error is None:
            problems.append(f"error: expected one containing {error!r}, got none")
        elif error not in str(result.error):
            problems.append(f"error: expected one containing {error!r}, got {str(result.error)!r}")
    if step_ids is not None:
        check("step_ids", list(step_ids), result.step_ids)
    for step_id, fields in (steps or {}).items():
        unknown = set(fields) - set(_STEP_FIELDS)
        if unknown:
            raise TypeError(
                f"assert_run: steps[{step_id!r}] has unknown fields {sorted(unknown)}; "
                f"use {', '.join(_STEP_FIELDS)}"
            )
        step = result.steps.get(step_id)
        if step is None:
            problems.append(f"steps[{step_id!r}]: no such step ran (ran: {result.step_ids})")
            continue
        for name, expected in fields.items():
            check(f"steps[{step_id!r}].{name}", expected, getattr(step, name))
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        raise AssertionError(
            f"run of {result.function!r} does not match:\n{lines}\n{result.timeline()}"
        )
