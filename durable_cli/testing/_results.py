"""What `run_function` returns: the run, each step and each attempt, read from the journal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..sdk import Event
from ._timeline import render

__all__ = ["AttemptResult", "ErrorInfo", "ReplayResult", "RunResult", "StepResult"]

_REPR_MAX = 60


def _short(value: Any, limit: int = _REPR_MAX) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class ErrorInfo:
    """A journaled error: `.type` (qualified class name), `.message`, `.traceback`.

    For a `StepError` (a step that used all its retries), `.step` names the step and `.cause`
    is the step's own last error.
    """

    type: str
    message: str
    traceback: str = field(default="", repr=False, compare=False)
    step: str | None = None
    cause: ErrorInfo | None = None

    @property
    def name(self) -> str:
        """The class name without its module: `LLMTimeout` for `pipeline.LLMTimeout`."""
        return self.type.rsplit(".", 1)[-1]

    @classmethod
    def from_record(cls, raw: Mapping[str, Any] | None) -> ErrorInfo | None:
        """Rebuild from the journal's error record (None stays None)."""
        if not raw:
            return None
        cause = raw.get("cause")
        return cls(
            type=str(raw.get("type", "Error")),
            message=str(raw.get("message", "")),
            traceback=str(raw.get("traceback") or ""),
            step=raw.get("step"),
            cause=cls.from_record(cause) if isinstance(cause, Mapping) else None,
        )

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


@dataclass(frozen=True)
class AttemptResult:
    """One attempt of a step: virtual timestamps (epoch ms), its error, and what ran.

    `action` is "call" (the step's callable ran), "stub", "spy", "fail" (`fail=`), "injected"
    (`durable fail` / `engine.inject_failure`) or "" for steps with no callable (sleep, wait…).
    """

    number: int
    started_at: int
    ended_at: int | None
    error: ErrorInfo | None
    injected: bool = False
    action: str = ""


@dataclass(frozen=True)
class StepResult:
    """One step of the run: `.status`, `.attempts`, `.calls` (real calls), `.output`, `.errors`."""

    id: str
    kind: str
    status: str
    attempts: int
    calls: int
    output: Any
    error: ErrorInfo | None
    errors: list[ErrorInfo | None]
    attempt_log: list[AttemptResult]
    started_at: int | None
    ended_at: int | None

    def __repr__(self) -> str:
        parts = [
            f"id={self.id!r}",
            f"status={self.status!r}",
            f"attempts={self.attempts}",
            f"calls={self.calls}",
        ]
        if self.kind != "run":
            parts.insert(1, f"kind={self.kind!r}")
        if self.error is not None and self.status != "completed":
            parts.append(f"error={str(self.error)!r}")
        else:
            parts.append(f"output={_short(self.output)}")
        return f"StepResult({', '.join(parts)})"


@dataclass(frozen=True, repr=False)
class RunResult:
    """A finished (or stuck) run: `.status`, `.output`, `.error`, `.steps[id]`, `.step_ids`."""

    id: str
    function: str
    status: str
    output: Any
    error: ErrorInfo | None
    event: Event
    steps: dict[str, StepResult]
    started_at: int | None
    ended_at: int | None
    reason: str | None = None
    children: list[RunResult] = field(default_factory=list)

    @property
    def step_ids(self) -> list[str]:
        """Step ids in the order they first ran."""
        return list(self.steps)

    @property
    def duration_ms(self) -> int | None:
        """Virtual milliseconds from start to end (retries and sleeps included)."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    def timeline(self) -> str:
        """Every attempt of every step in virtual time, one line each (what the plugin prints)."""
        return render(self)

    def __repr__(self) -> str:
        head = f"RunResult({self.function!r}, status={self.status!r}"
        if self.error is not None:
            head += f", error={str(self.error)!r}"
        else:
            head += f", output={_short(self.output)}"
        steps = ", ".join(_step_brief(s) for s in self.steps.values())
        return f"{head}, steps=[{steps}])"


@dataclass(frozen=True, repr=False)
class ReplayResult(RunResult):
    """What `replay` returns: a `RunResult`, and whether the history ended before the code did.

    `history_ended` is True when the code asked for a step the history does not have (or had
    not finished: the run was exported mid-way); the replay stopped there, before that step, and
    the run is `paused`. `stopped_at` is that step's id, `stopped_position` its place (from 1)
    in the order the code asked for steps.
    """

    history_ended: bool = False
    stopped_at: str | None = None
    stopped_position: int | None = None

    def __repr__(self) -> str:
        text = super().__repr__()
        if self.history_ended:
            text = f"{text[:-1]}, history ended before step {self.stopped_at!r})"
        return text.replace("RunResult(", "ReplayResult(", 1)


def _step_brief(step: StepResult) -> str:
    mark = {"completed": "ok", "failed": "FAILED"}.get(step.status, step.status)
    tries = f" x{step.attempts}" if step.attempts > 1 else ""
    return f"{step.id} {mark}{tries}"
