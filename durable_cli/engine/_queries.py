"""Read-only views of the journal that the CLI, the TUI and the MCP server share."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..store import ACTIVE_RUN_STATUSES, RUN_STATUSES, PendingFailure, RunRecord, Store
from . import _actions as actions

if TYPE_CHECKING:
    from ._registry import Registry

__all__ = [
    "active_run_ids",
    "awaited",
    "check_run_status",
    "function_rows",
    "last_event_data",
    "latest_event",
    "list_runs",
    "pending_failures",
    "run_counts",
    "run_detail",
    "run_page",
    "run_steps",
    "run_summary",
    "runs_by_id",
    "step_modes",
]


def function_rows(registry: Registry) -> list[dict[str, Any]]:
    """The functions loaded, by id, as `durable functions --json` lists them."""
    return [
        {
            "id": fn.id,
            "triggers": list(fn.triggers),
            "retries": fn.retries,
            "file": os.path.relpath(fn.source) if fn.source else None,
        }
        for fn in sorted(registry, key=lambda f: f.id)
    ]


def check_run_status(status: str | None) -> None:
    """InputError unless `status` is None or a run status (checked before opening anything)."""
    if status is not None and status not in RUN_STATUSES:
        raise InputError(f"unknown status {status!r}: use one of {', '.join(RUN_STATUSES)}")


def list_runs(
    store: Store, *, function: str | None = None, status: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Runs, newest first, as `durable runs --json` lists them."""
    check_run_status(status)
    if limit < 1:
        raise InputError(f"limit must be 1 or more, not {limit}")
    listed = store.list_runs(function=function, status=status, limit=limit)
    return [run_summary(run) for run in listed]


def run_summary(run: RunRecord) -> dict[str, Any]:
    """A run as `durable runs --json` lists it."""
    d = run.to_dict()
    d["duration_ms"] = (run.ended_at - run.started_at) if run.ended_at and run.started_at else None
    return d


def run_detail(store: Store, run_id: str) -> dict[str, Any]:
    """One run with its steps in execution order, as `durable show --json` prints it."""
    run = actions.find_run(store, run_id)
    d = run_summary(run)
    d["steps"] = run_steps(store, run)
    d["pending_failures"] = [f.to_dict() for f in pending_failures(store, run)]
    return d


def run_steps(store: Store, run: RunRecord) -> list[dict[str, Any]]:
    """A run's steps in execution order, as `durable show --json` lists them."""
    return [s.to_dict() for s in sorted(store.load_steps(run.id), key=lambda s: s.seq)]


def pending_failures(store: Store, run: RunRecord | None = None) -> list[PendingFailure]:
    """Injected failures still to happen (those that can hit `run`, when given), by key."""
    found = [PendingFailure.from_store(k, v) for k, v in sorted(store.failures().items())]
    if run is None:
        return found
    return [f for f in found if f.run == run.id or f.function == run.function]


# -- what a live view (the TUI) reads; each reads the store, so call them off a UI loop ----------
def run_page(
    store: Store,
    *,
    function: str | None = None,
    statuses: Iterable[str] | None = None,
    limit: int,
    before: str | None = None,
) -> list[RunRecord]:
    """One page of runs, newest first (older than the run id `before`, when given)."""
    return list(store.list_runs(function=function, status=statuses, limit=limit, before=before))


def runs_by_id(store: Store, run_ids: list[str]) -> dict[str, RunRecord]:
    """The runs among `run_ids` that exist, in one read."""
    return store.get_runs(run_ids)


def active_run_ids(store: Store) -> set[str]:
    """The ids of the runs not finished yet."""
    # one status at a time: each is an index range, not a scan of every run
    return {run.id for status in ACTIVE_RUN_STATUSES for run in store.list_runs(status=status)}


def run_counts(store: Store, function_ids: Iterable[str]) -> dict[str, int]:
    """How many runs each function has."""
    return {fn: store.count_runs(fn) for fn in function_ids}


def step_modes(store: Store) -> set[str]:
    """The functions whose new runs start in step mode."""
    prefix = actions.STEP_MODE_FLAGS
    return {key[len(prefix) :] for key, on in store.flags(prefix).items() if on}


def awaited(store: Store, event_name: str) -> bool:
    """Whether a run waits for an event named `event_name` now."""
    return store.has_flags(f"wait/{event_name}/")


def latest_event(store: Store, name: str) -> dict[str, Any] | None:
    """The newest event named `name` in the journal (`id`, `name`, `data`, `ts`), or None."""
    return store.latest_event(name)


def last_event_data(
    store: Store, registry: Registry, name: str, sent_ids: Iterable[str] = ()
) -> dict[str, Any] | None:
    """The data of the newest event named `name` in the journal (None: there is none).

    Events that started runs are found through the newest runs of the functions they trigger,
    and the events given by id (`sent_ids`: a session's own); the newest by time wins.
    """
    found = [store.get_event(event_id) for event_id in sent_ids]
    for fn in registry.for_event(name):
        found.extend(run.event for run in store.list_runs(function=fn.id, limit=20))
    events = [e for e in found if e and e.get("name") == name]
    best = max(events, key=lambda e: e.get("ts") or 0, default=None)
    return None if best is None else dict(best.get("data") or {})
