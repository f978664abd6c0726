"""Read-only queries the TUI makes of the journal: pages of runs, function facts, past events."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..engine import Engine, pending_failures
from ..store import PendingFailure, RunRecord, Store
from .format import step_state

__all__ = [
    "STATUS_FILTERS",
    "FunctionInfo",
    "RunFilter",
    "display_path",
    "function_infos",
    "last_event_data",
    "open_waits",
    "page_runs",
    "with_match",
]

# name shown -> the statuses it selects (None: every run)
STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "active": ("queued", "running", "paused", "retrying", "sleeping", "waiting"),
    "completed": ("completed",),
    "failed": ("failed",),
    "cancelled": ("cancelled",),
    "paused": ("paused",),
    "retrying": ("retrying",),
    "running": ("running",),
    "queued": ("queued",),
    "sleeping": ("sleeping",),
    "waiting": ("waiting",),
}


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs the list shows."""

    function: str | None = None
    status: str = "all"

    @property
    def statuses(self) -> tuple[str, ...] | None:
        """The run statuses this filter selects (None: all)."""
        return STATUS_FILTERS.get(self.status)

    def matches(self, run: RunRecord) -> bool:
        """Whether `run` belongs in the list."""
        if self.function is not None and run.function != self.function:
            return False
        statuses = self.statuses
        return statuses is None or run.status in statuses

    def label(self) -> str:
        """A short description, e.g. `failed · process-document`."""
        parts = [self.status] if self.status != "all" else []
        if self.function:
            parts.append(self.function)
        return " · ".join(parts) or "all"


def page_runs(
    store: Store, flt: RunFilter, limit: int, before: str | None = None
) -> list[RunRecord]:
    """One page of runs, newest first, older than `before` when given."""
    return list(
        store.list_runs(function=flt.function, status=flt.statuses, limit=limit, before=before)
    )


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """What the functions panel shows for one loaded function."""

    id: str
    triggers: tuple[str, ...]
    file: str
    runs: int
    step_mode: bool
    failures: tuple[PendingFailure, ...] = ()  # injected into every run of it, still pending


def display_path(path: str) -> str:
    """`path` relative to the working folder when it lies inside it."""
    if not path:
        return ""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def function_infos(engine: Engine) -> list[FunctionInfo]:
    """The loaded functions, sorted by id, with their run counts and step-mode flag."""
    store = engine.store
    stepping = store.flags("stepmode/")
    failing = pending_failures(store)
    return [
        FunctionInfo(
            id=fn.id,
            triggers=tuple(fn.triggers),
            file=display_path(fn.source),
            runs=store.count_runs(fn.id),
            step_mode=bool(stepping.get(f"stepmode/{fn.id}")),
            failures=tuple(f for f in failing if f.function == fn.id),
        )
        for fn in sorted(engine.registry, key=lambda f: f.id)
    ]


def last_event_data(
    engine: Engine, name: str, sent_ids: Iterable[str] = ()
) -> dict[str, Any] | None:
    """The data of the newest event named `name` in the journal; it reads the store, so call
    it off the UI loop.

    Events that started runs are found through the newest runs of the functions they trigger,
    and the events this session sent (`sent_ids`) by id: the newest by time wins, so an event
    sent from the TUI loses to a newer one sent from the command line.
    """
    store = engine.store
    found = [store.get_event(event_id) for event_id in sent_ids]
    for fn in engine.registry.for_event(name):
        found.extend(run.event for run in store.list_runs(function=fn.id, limit=20))
    events = [e for e in found if e and e.get("name") == name]
    best = max(events, key=lambda e: e.get("ts") or 0, default=None)
    return None if best is None else dict(best.get("data") or {})


def open_waits(detail: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The `wait_for_event` steps a run (a `run_detail` dict) is waiting in now."""
    if not detail or detail["status"] != "waiting":
        return []
    return [
        s
        for s in detail["steps"]
        if s.get("kind") == "wait" and step_state(s, "waiting") == "waiting"
    ]


def with_match(data: dict[str, Any] | None, wait: dict[str, Any]) -> dict[str, Any]:
    """`data` with the field a wait matches on (`match="data.x"`) set to the value it expects,
    so that sending it resumes that run."""
    out = json.loads(json.dumps(data or {}))  # a deep copy: the caller's dict stays as it was
    meta = wait.get("meta") or {}
    path = (meta.get("match") or "").split(".")
    if len(path) < 2 or path[0] != "data":
        return out
    node = out
    for part in path[1:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = meta.get("expected")
    return out
