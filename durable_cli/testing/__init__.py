"""Run durable functions in tests: injected failures, stubs, spies and virtual time.

    from durable_cli.testing import run_function

    result = run_function(process_document, {"filename": "a.pdf"}, fail={"classify": 2})
    assert result.status == "completed"
    assert result.steps["classify"].attempts == 3

The run goes through the real engine and the real journal (on a throw-away state dir); retries'
backoff, `RetryAfterError`, sleeps and wait timeouts advance a virtual clock, not the wall clock.

`replay(fn, "tests/histories/x.json")` runs `fn`'s current code over a run exported with
`durable export` and raises `durable_cli.NondeterminismError` where the code contradicts it.
"""

from typing import TYPE_CHECKING, Any

from ._asserts import assert_run
from ._results import AttemptResult, ErrorInfo, ReplayResult, RunResult, StepResult

if TYPE_CHECKING:
    from ._replay import replay
    from ._runner import run_function

__all__ = [
    "AttemptResult",
    "ErrorInfo",
    "ReplayResult",
    "RunResult",
    "StepResult",
    "assert_run",
    "replay",
    "run_function",
]


def __getattr__(name: str) -> Any:
    """Import the engine on first use: the pytest plugin loads this package in every session."""
    if name == "run_function":
        from ._runner import run_function

        globals()["run_function"] = run_function
        return run_function
    if name == "replay":
        from ._replay import replay

        globals()["replay"] = replay
        return replay
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
