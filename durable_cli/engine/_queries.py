"""Read-only views of the journal that the CLI and the TUI share."""

from __future__ import annotations

from typing import Any

from ..store import PendingFailure, RunRecord, Store
from . import _actions as actions

__all__ = ["pending_failures", "run_detail", "run_summary"]


def run_summary(run: RunRecord) -> dict[str, Any]:
    """A run as `durable runs --json` lists it."""
    d = run.to_dict()
    d["duration_ms"] = (run.ended_at - run.started_at) if run.ended_at and run.started_at else None
    return d


def run_detail(store: Store, run_id: str) -> dict[str, Any]:
    """One run with its steps in execution order, as `durable show --json` prints it."""
    run = actions.find_run(store, run_id)
    d = run_summary(run)
    d["steps"] = [s.to_dict() for s in sorted(store.load_steps(run.id), key=lambda s: s.seq)]
    d["pending_failures"] = [f.to_dict() for f in pending_failures(store, run)]
    return d


def pending_failures(store: Store, run: RunRecord | None = None) -> list[PendingFailure]:
    """Injected failures still to happen (those that can hit `run`, when given), by key."""
    found = [PendingFailure.from_store(k, v) for k, v in sorted(store.failures().items())]
    if run is None:
        return found
    return [f for f in found if f.run == run.id or f.function == run.function]
