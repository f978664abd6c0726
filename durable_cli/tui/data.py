"""Read-only queries the TUI makes of the journal: pages of runs, function facts, past events."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..engine import Engine
from ..store import RunRecord, Store

__all__ = [
    "STATUS_FILTERS",
    "FunctionInfo",
    "RunFilter",
    "display_path",
    "function_infos",
    "last_event_data",
    "page_runs",
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
    return [
        FunctionInfo(
            id=fn.id,
            triggers=tuple(fn.triggers),
            file=display_path(fn.source),
            runs=store.count_runs(fn.id),
            step_mode=bool(stepping.get(f"stepmode/{fn.id}")),
        )
        for fn in sorted(engine.registry, key=lambda f: f.id)
    ]


def last_event_data(
    engine: Engine, name: str, sent: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any] | None:
    """The data of the newest event named `name`: sent in this session, or behind a past run."""
    if sent and name in sent:
        return sent[name]
    best: dict[str, Any] | None = None
    for fn in engine.registry.for_event(name):
        for run in engine.store.list_runs(function=fn.id, limit=20):
            event = run.event
            if event.get("name") == name and (best is None or event["ts"] > best["ts"]):
                best = event
                break
    return None if best is None else dict(best.get("data") or {})
