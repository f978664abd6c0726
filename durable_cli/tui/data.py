"""What the TUI reads of the journal, and the one object that reads it.

`Journal` reads through the engine's query API only; each of its methods reads the store, so
the widgets call them in thread workers (`reads.ReadQueue`), never on the UI loop.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine import (
    ACTIVE_RUN_STATUSES,
    RUN_STATUSES,
    TERMINAL_RUN_STATUSES,
    active_run_ids,
    awaited,
    bulk,
    last_event_data,
    pending_failures,
    run_counts,
    run_detail,
    run_page,
    runs_by_id,
    step_modes,
)
from ..engine.kinds import WAIT
from ..errors import InputError
from .format import kind_of, step_state

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..engine import Engine, PendingFailure, RunRecord

__all__ = [
    "STATUS_FILTERS",
    "FunctionInfo",
    "Journal",
    "RunFilter",
    "display_path",
    "open_waits",
    "with_match",
]


def _in_order(statuses: Iterable[str]) -> tuple[str, ...]:
    return tuple(s for s in RUN_STATUSES if s in statuses)


# name shown -> the statuses it selects (None: every run); how runs end, then how they go on
STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "active": _in_order(ACTIVE_RUN_STATUSES),
    **{s: (s,) for s in _in_order(TERMINAL_RUN_STATUSES)},
    **{s: (s,) for s in _in_order(ACTIVE_RUN_STATUSES)},
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


class Journal:
    """Everything the TUI reads, through the engine's query API (each method reads the store:
    call it in a worker, never on the UI loop)."""

    def __init__(self, engine: Engine) -> None:
        """Read what `engine` serves."""
        self.engine = engine

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One run with its steps, as `durable show --json` has it (None: no such run)."""
        try:
            return run_detail(self.engine.store, run_id)
        except InputError:
            return None

    def page(self, flt: RunFilter, limit: int, before: str | None = None) -> list[RunRecord]:
        """One page of the runs `flt` selects, newest first, older than `before` when given."""
        return run_page(
            self.engine.store,
            function=flt.function,
            statuses=flt.statuses,
            limit=limit,
            before=before,
        )

    def matching(self, flt: RunFilter, *, unfinished: bool = False) -> list[str]:
        """The ids of every run `flt` selects (not a page: all), oldest first; `unfinished`:
        only those not finished. `flt` must name a function."""
        selection = bulk.Selection(flt.function or "", flt.statuses)
        found = bulk.select_runs(self.engine.store, selection, unfinished=unfinished)
        return [run.id for run in found]

    def runs(self, run_ids: list[str]) -> dict[str, RunRecord]:
        """The runs among `run_ids` that exist, in one read."""
        return runs_by_id(self.engine.store, run_ids)

    def active(self) -> set[str]:
        """The ids of the runs not finished yet."""
        return active_run_ids(self.engine.store)

    def functions(self) -> list[FunctionInfo]:
        """The loaded functions, sorted by id, with their run counts and step-mode flag."""
        store, loaded = self.engine.store, sorted(self.engine.registry, key=lambda f: f.id)
        stepping = step_modes(store)
        counts = run_counts(store, (fn.id for fn in loaded))
        failing = pending_failures(store)
        return [
            FunctionInfo(
                id=fn.id,
                triggers=tuple(fn.triggers),
                file=display_path(fn.source),
                runs=counts[fn.id],
                step_mode=fn.id in stepping,
                failures=tuple(f for f in failing if f.function == fn.id),
            )
            for fn in loaded
        ]

    def pending_failures(
        self, *, run_id: str | None = None, function_id: str | None = None
    ) -> list[PendingFailure]:
        """Injected failures still to happen: all, those that can hit a run, or a function's."""
        try:
            return self.engine.pending_failures(run_id=run_id, function_id=function_id)
        except InputError:  # the run is gone: nothing can hit it
            return []

    def awaited(self, event_name: str) -> bool:
        """Whether a run waits for an event named `event_name` now."""
        return awaited(self.engine.store, event_name)

    def last_event_data(self, name: str, sent_ids: Iterable[str] = ()) -> dict[str, Any] | None:
        """The data of the newest event named `name` (see `engine.last_event_data`)."""
        return last_event_data(self.engine.store, self.engine.registry, name, sent_ids)


def open_waits(detail: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The `wait_for_event` steps a run (a `run_detail` dict) is waiting in now."""
    held = WAIT.run_status
    if not detail or detail["status"] != held:
        return []
    return [s for s in detail["steps"] if kind_of(s) is WAIT and step_state(s, held) == held]


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
