"""Every exception a durable user can see, in one place.

    Exception
     └── DurableError                    base of durable's own errors
          ├── NonRetriableError          a step raises it to fail at once        (retriable = False)
          ├── RetryAfterError            a step raises it to set the next delay  (retriable = True)
          ├── StepError                  raised at `step.run` when a step failed for good
          ├── OutputNotStorableError     a step returned what JSON can't store   (retriable = False)
          ├── InjectedFailure            a failure injected by `durable fail` or the testing helper
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
