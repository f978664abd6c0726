"""The `Store` protocol: the seam between the engine and where the journal lives."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ._records import RunRecord, StepRecord

__all__ = ["Leases", "Store"]


class Leases(Protocol):
    """Run ownership: a runner's lease, the runs it claims, due times and flow budgets.

    Once `register`ed, every write the store makes for this runner is fenced by the lease: it
    raises `LeaseLost`, writing nothing, after another runner revoked it."""

    runner_id: str | None

    def register(self, runner_id: str, lease_ms: int) -> None:
        """Become a runner holding a lease of `lease_ms`; fence every later write by it."""
        ...

    def renew(self, lease_ms: int) -> bool:
        """Extend the lease; False when it was revoked."""
        ...

    def release(self) -> None:
        """Give the lease up: this runner's unfinished runs are anyone's at once."""
        ...

    def runners(self) -> dict[str, dict[str, Any]]:
        """Every runner row, each with `live`."""
        ...

    def take_over(self, statuses: Iterable[str], limit: int | None = None) -> list[RunRecord]:
        """Revoke dead runners; make their runs (and unowned ones) in `statuses` mine."""
        ...

    def claim(self, run_id: str, now_ms: int) -> RunRecord | None:
        """Make a run that may go now mine, unless a live runner holds it."""
        ...

    def due(self, now_ms: int, limit: int = 256) -> list[tuple[int, str]]:
        """Due times up to `now_ms`: (ms, run id)."""
        ...

    def upcoming(self) -> list[tuple[int, str]]:
        """Every due time: (ms, run id)."""
        ...

    def claim_due(self, now_ms: int, limit: int = 256) -> list[RunRecord]:
        """Take the runs whose due time came, each by one runner only."""
        ...

    def take_slot(self, key: str, run_id: str, limit: int) -> bool:
        """Hold one of `limit` concurrency slots of `key` for a run."""
        ...

    def free_slot(self, key: str, run_id: str) -> None:
        """Give a run's concurrency slot back."""
        ...

    def window(self, key: str, entry_id: str, now_ms: int, period_ms: int, limit: int) -> int:
        """Count an entry into a sliding window: 0 when it fits, else when it will."""
        ...


class Store(Protocol):
    """Durable storage for events, runs, steps, injected failures and flags."""

    path: str
    leases: Leases

    def close(self) -> None:
        """Release connections and locks."""
        ...

    def batch(self) -> AbstractContextManager[Any]:
        """A transaction: everything written inside commits together (nesting is fine)."""
        ...

    # events
    def put_event(self, event: dict[str, Any], *, queue: bool = True) -> bool:
        """Record (and queue) an event; False when an event with that id exists already."""
        ...

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """One event by id."""
        ...

    def latest_event(self, name: str) -> dict[str, Any] | None:
        """The newest event named `name` (by time, then id), or None."""
        ...

    def queued_count(self) -> int:
        """How many events wait in the queue."""
        ...

    def has_queued(self) -> bool:
        """Whether any event waits in the queue (cheaper than counting them)."""
        ...

    def claim_events(
        self,
        plan: Callable[[dict[str, Any]], list[RunRecord]],
        limit: int = 256,
        *,
        reads_runs: bool = True,
    ) -> list[RunRecord]:
        """Dequeue events and create the runs `plan` makes for each, in one transaction;
        `reads_runs=False` promises no plan reads runs (they may be written all at the end)."""
        ...

    # runs
    def create_runs(self, runs: Iterable[RunRecord], steps: Iterable[StepRecord] = ()) -> None:
        """Create runs (and pre-journaled steps) atomically."""
        ...

    def get_run(self, run_id: str) -> RunRecord | None:
        """One run by id."""
        ...

    def get_runs(self, run_ids: list[str]) -> dict[str, RunRecord]:
        """The runs of these ids that exist, by id, in one read."""
        ...

    def resolve_run_id(self, text: str) -> str | None:
        """The run id that `text` uniquely starts or ends, if any."""
        ...

    def match_run_ids(self, text: str, limit: int) -> tuple[list[str], int]:
        """The newest `limit` run ids that `text` starts, else ends, and how many match in all."""
        ...

    def save_run(self, run: RunRecord, *, guard: bool = True) -> bool:
        """Write a run; with `guard`, a finished run on disk is never overwritten (False)."""
        ...

    def save_runs(self, runs: list[RunRecord], steps: Iterable[StepRecord] = ()) -> list[bool]:
        """`save_run` (guarded) for several runs, and `save_step` for several steps, committed
        together; for each run, False when it was left as it was."""
        ...

    def list_runs(
        self,
        *,
        function: str | None = None,
        status: str | Iterable[str] | None = None,
        limit: int | None = None,
        before: str | None = None,
    ) -> Iterator[RunRecord]:
        """Runs newest first, filtered, streamed (never all loaded at once)."""
        ...

    def count_runs(self, function: str | None = None) -> int:
        """Number of runs (of one function)."""
        ...

    # steps
    def load_steps(self, run_id: str) -> list[StepRecord]:
        """A run's journal in execution order (one read)."""
        ...

    def save_step(
        self, step: StepRecord, *, run: RunRecord | None = None, consume: str | None = None
    ) -> None:
        """Commit a step (and optionally its run, and one use of an injected failure) at once.

        The run is guarded like `save_run`'s: one cancelled (or ended) meanwhile stays so."""
        ...

    # injected failures and flags
    def add_failure(self, key: str, times: int, message: str) -> None:
        """Fail the next `times` attempts (-1: every attempt) matching `key`."""
        ...

    def failures(self) -> dict[str, dict[str, Any]]:
        """All pending injected failures by key."""
        ...

    def set_flag(self, key: str, value: Any) -> None:
        """Set (or, with None, clear) a small flag."""
        ...

    def get_flag(self, key: str) -> Any:
        """One flag by its exact key (None when unset)."""
        ...

    def flags(self, prefix: str) -> dict[str, Any]:
        """Flags whose key starts with `prefix`."""
        ...

    def has_flags(self, prefix: str) -> bool:
        """Whether any flag's key starts with `prefix` (cheaper than reading them)."""
        ...

    # runner coordination
    def lock_runner(self) -> None:
        """Become the only runner on this state; raises StateLockedError naming the holder."""
        ...

    def notify(self) -> None:
        """Tell a live runner something changed (non-blocking, a no-op with none up)."""
        ...

    def wake_fd(self) -> int | None:
        """A file descriptor that becomes readable when `notify` is called, if supported."""
        ...

    def drain_wake(self) -> None:
        """Consume pending notifications."""
        ...
