"""Injected failures as a user sees them: which step, for which run or function, how many more.

The journal keeps each one under `fail/<scope>/<step id>` (scope `run:<run id>` or
`fn:<function id>`) with `{"times": N, "message": ...}`; N is the attempts still to fail, -1
for every attempt. `PendingFailure` is that row read back, with the words the CLI, the TUI and
`durable doctor` all use for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EVERY_ATTEMPT", "PendingFailure", "failure_key"]

EVERY_ATTEMPT = -1  # `times` of a failure that never runs out


def failure_key(step_id: str, *, run_id: str | None = None, function_id: str | None = None) -> str:
    """The key (without the `fail/` prefix) of a failure for a run's or a function's step."""
    scope = f"run:{run_id}" if run_id is not None else f"fn:{function_id}"
    return f"{scope}/{step_id}"


@dataclass(frozen=True, slots=True)
class PendingFailure:
    """An injected failure still to happen: `run` or `function` says where (one of them)."""

    step: str
    run: str | None
    function: str | None
    times: int
    message: str = ""

    @classmethod
    def from_store(cls, key: str, value: dict[str, Any]) -> PendingFailure:
        """Read one journal row (`key` without the `fail/` prefix)."""
        # a step id never holds "/" (ids are checked when a failure is added): the last one
        # splits scope from step, whatever a function id holds
        scope, _, step = key.rpartition("/")
        kind, _, name = scope.partition(":")
        return cls(
            step=step,
            run=name if kind == "run" else None,
            function=name if kind != "run" else None,
            times=int(value.get("times", 1)),
            message=str(value.get("message") or ""),
        )

    @property
    def key(self) -> str:
        """Its key in the journal (without the `fail/` prefix)."""
        return failure_key(self.step, run_id=self.run, function_id=self.function)

    @property
    def every_attempt(self) -> bool:
        """Whether it fails every attempt until removed."""
        return self.times < 0

    @property
    def remaining(self) -> str:
        """How many attempts it still fails, in words: `every attempt`, `next 2 attempts`."""
        if self.every_attempt:
            return "every attempt"
        return "next attempt" if self.times == 1 else f"next {self.times} attempts"

    @property
    def scope(self) -> str:
        """Where it applies, in words: `run 01J9…` or `every run of FN`."""
        return f"run {self.run}" if self.run is not None else f"every run of {self.function}"

    def describe(self) -> str:
        """One line: step, where, how many (and the message, when there is one)."""
        text = f"{self.step} ({self.scope}): {self.remaining}"
        return f"{text}, message {self.message!r}" if self.message else text

    def to_dict(self) -> dict[str, Any]:
        """JSON form (what `durable fail --list --json` prints)."""
        return {
            "step": self.step,
            "run": self.run,
            "function": self.function,
            "times": self.times,
            "every_attempt": self.every_attempt,
            "remaining": self.remaining,
            "message": self.message,
        }
