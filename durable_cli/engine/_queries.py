"""Read-only views of the journal that the CLI and the TUI share."""

from __future__ import annotations

from typing import Any

from ..store import RunRecord, Store
from . import _actions as actions

__all__ = ["run_detail", "run_summary"]


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
    return d
