"""Every exception a durable user can see, in one place.

    Exception
     └── DurableError                    base of durable's own errors
          ├── NonRetriableError          a step raises it to fail at once        (retriable = False)
          ├── RetryAfterError            a step raises it to set the next delay  (retriable = True)
          ├── StepError                  raised at `step.run` when a step failed for good
          ├── OutputNotStorableError     a step returned what JSON can't store   (retriable = False)
          ├── InjectedFailure            a failure injected by `durable fail` or the testing helper
          ├── NondeterminismError        replayed code asked for steps its history contradicts
          ├── LoadError                  a workflow file failed to load (file and line)
          │    └── FunctionIdClashError  two functions share an id
          ├── StateError                 the state dir can't be used as it is
          │    ├── SchemaVersionError    written by an unknown version of durable
          │    └── StateLockedError      another runner holds the state dir
          └── InputError                 bad input: unknown run, bad event name, bad payload…
    BaseException
     └── ControlFlow                     unwinds a handler; user `except Exception` can't swallow it
          ├── Suspend                    the run waits (retry backoff, sleep, event, step mode)
          ├── RunCancelled               the run was cancelled while it ran
          └── LeaseLost                  another runner took this runner's runs over

Retriability is a class attribute: any other exception a step raises is retriable.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs `durable send` 20 ms to import; annotations are strings
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = [
    "ControlFlow",
    "DurableError",
    "FunctionIdClashError",
    "InjectedFailure",
    "InputError",
    "LeaseLost",
    "LoadError",
    "NonRetriableError",
    "NondeterminismError",
    "OutputNotStorableError",
    "RetryAfterError",
    "RunCancelled",
    "SchemaVersionError",
    "StateError",
    "StateLockedError",
    "StepError",
    "Suspend",
    "is_retriable",
]


class DurableError(Exception):
    """Base class of durable's own errors."""

    retriable: ClassVar[bool] = True


class NonRetriableError(DurableError):
    """Raise in a step to fail it at once, without further retries."""

    retriable = False


class RetryAfterError(DurableError):
    """Raise in a step to retry it after `seconds` instead of the backoff delay."""

    retriable = True

    def __init__(self, seconds: float, message: str = "") -> None:
        """Keep the delay (seconds, or a timedelta) and an optional message."""
        if hasattr(seconds, "total_seconds"):
            seconds = seconds.total_seconds()
        self.seconds = float(seconds)
        super().__init__(message or f"retry after {self.seconds:g}s")


class StepError(DurableError):
    """A step failed for good; carries the original error's type, message and traceback."""

    retriable = False

    def __init__(
        self, step_id: str, error_type: str, message: str, traceback: str = "", attempts: int = 0
    ) -> None:
        """Describe the step that failed and the last error it raised."""
        self.step_id = step_id
        self.error_type = error_type
        self.message = message
        self.traceback = traceback
        self.attempts = attempts
        super().__init__(f"step {step_id!r} failed: {error_type}: {message}")

    @classmethod
    def from_dict(cls, step_id: str, error: dict[str, Any], attempts: int = 0) -> StepError:
        """Rebuild from a journaled error record."""
        return cls(
            step_id,
            error.get("type", "Error"),
            error.get("message", ""),
            error.get("traceback", ""),
            attempts,
        )


class OutputNotStorableError(DurableError):
    """A step returned a value JSON can't store; not retried."""

    retriable = False

    def __init__(self, step_id: str, type_name: str, detail: str = "") -> None:
        """Name the step and the type that could not be stored."""
        self.step_id = step_id
        self.type_name = type_name
        extra = f" ({detail})" if detail else ""
        super().__init__(f"step {step_id!r} returned a {type_name}, which JSON can't store{extra}")


class InjectedFailure(DurableError):
    """A failure injected by `durable fail`, the TUI or the testing helper; retriable."""

    retriable = True


class NondeterminismError(DurableError):
    """Replayed code asked for steps its recorded history contradicts (`testing.replay`).

    `position` counts steps from 1 in the history's order; `recorded` is the (id, kind) the
    history has there, `requested` the (id, kind) the code asked for instead (None: the run
    ended without asking for the recorded step). `recorded_order` and `requested_order` are the
    whole recorded order and the code's up to the contradiction, as (id, kind) pairs.
    """

    retriable = False

    def __init__(
        self,
        position: int,
        recorded: tuple[str, str],
        requested: tuple[str, str] | None,
        *,
        function: str | None = None,
        recorded_order: list[tuple[str, str]] | None = None,
        requested_order: list[tuple[str, str]] | None = None,
        ended_with: str | None = None,
    ) -> None:
        """Name the position, the recorded step and the requested one."""
        self.position = position
        self.recorded = tuple(recorded)
        self.requested = None if requested is None else tuple(requested)
        self.function = function
        self.recorded_order = [tuple(p) for p in recorded_order or ()]
        self.requested_order = [tuple(p) for p in requested_order or ()]
        self.ended_with = ended_with
        rid, rkind = self.recorded
        head = f"{function}: " if function else ""
        if self.requested is None:
            raised = f" (raising {ended_with})" if ended_with else ""
            asked = f"the run ended{raised} without asking for it"
        else:
            asked = f"the code requested {self.requested[0]!r} ({self.requested[1]})"
        super().__init__(
            f"{head}nondeterminism at step {position}: the history recorded {rid!r} ({rkind}),"
            f" {asked}"
        )

    def side_by_side(self) -> str:
        """The recorded step order beside the requested one, the contradicting row marked."""
        rows = max(len(self.recorded_order), len(self.requested_order), self.position)
        cells = [
            (
                _step_cell(self.recorded_order, i),
                _step_cell(self.requested_order, i)
                or ("(run ended)" if self.requested is None and i == self.position - 1 else ""),
            )
            for i in range(rows)
        ]
        width = max([len("recorded"), *(len(left) for left, _ in cells)])
        lines = [f"step  {'recorded':<{width}}  requested"]
        for i, (left, right) in enumerate(cells):
            mark = "  <- differs" if i == self.position - 1 else ""
            lines.append(f"{i + 1:>4}  {left:<{width}}  {right}{mark}".rstrip())
        return "\n".join(lines)


def _step_cell(order: list[tuple[str, ...]], index: int) -> str:
    if index >= len(order):
        return ""
    sid, kind = order[index]
    return f"{sid} ({kind})"


class LoadError(DurableError):
    """A workflow file failed to load; names the file and line."""

    retriable = False

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        """Keep where it happened so the CLI and TUI can show `file:line`."""
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")


class FunctionIdClashError(LoadError):
    """Two loaded functions share one id."""


class StateError(DurableError):
    """The state dir can't be used as it is."""

    retriable = False


class SchemaVersionError(StateError):
    """The state dir was written by a version of durable this one doesn't know."""


class StateLockedError(StateError):
    """Another runner works on this state dir."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        """Keep the holder's pid."""
        self.pid = pid
        super().__init__(message)


class InputError(DurableError):
    """Bad input from a user: unknown run, bad event name, payload that is not an object…"""

    retriable = False


class ControlFlow(BaseException):
    """Unwinds a handler; a BaseException so `except Exception` in user code can't swallow it."""


class Suspend(ControlFlow):
    """The run waits: retry backoff, sleep, event, step mode or a hold."""


class RunCancelled(ControlFlow):
    """The run was cancelled while it ran."""


class LeaseLost(ControlFlow):
    """A journal write was refused: this runner's lease lapsed and another runner may hold its
    runs now, so whatever it was doing must stop without writing another word."""


def is_retriable(exc: BaseException) -> bool:
    """Whether a step that raised `exc` may be tried again."""
    return bool(getattr(type(exc), "retriable", True))
