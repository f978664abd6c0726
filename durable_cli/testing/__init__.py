"""Run durable functions in tests: injected failures, stubs, spies and virtual time.

    from durable_cli.testing import run_function

    result = run_function(process_document, {"filename": "a.pdf"}, fail={"classify": 2})
    assert result.status == "completed"
    assert result.steps["classify"].attempts == 3

The run goes through the real engine and the real journal (on a throw-away state dir); retries'
backoff, `RetryAfterError`, sleeps and wait timeouts advance a virtual clock, not the wall clock.
"""

from typing import TYPE_CHECKING, Any

from ._asserts import assert_run
from ._results import AttemptResult, ErrorInfo, RunResult, StepResult

if TYPE_CHECKING:
    from ._runner import run_function

__all__ = [
    "AttemptResult",
    "ErrorInfo",
    "RunResult",
    "StepResult",
    "assert_run",
    "run_function",
]


def __getattr__(name: str) -> Any:
    """Import the engine on first use: the pytest plugin loads this package in every session."""
    if name == "run_function":
        from ._runner import run_function

        globals()["run_function"] = run_function
        return run_function
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
