"""Acting on many runs at once: select them by function, status and age, then cancel or replay
each. `durable cancel --function` and `durable replay --function` use these, with or without a
runner up; a live view passes its engine's own cancel or replay so in-flight runs hear of it.

Selecting reads only; acting goes run by run through the one-run actions, so each run is
checked as `durable cancel RUN_ID` would check it (one that finished meanwhile is skipped and
said, the others go on).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..store import ACTIVE_RUN_STATUSES, RunRecord, Store
from . import _actions as actions
from ._events import now_ms as _wall_ms
from ._queries import check_run_status

__all__ = [
    "Bulk",
    "Selection",
    "cancel_runs",
    "check_data",
    "parse_since",
    "replay_runs",
    "select_runs",
]

_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_SINCE = re.compile(r"^(\d+)([smhdw])$")


def parse_since(text: str) -> int:
    """A duration such as `90s`, `30m`, `1h`, `2d` or `1w`, in milliseconds (InputError if not)."""
    found = _SINCE.match(text.strip())
    if found is None:
        raise InputError(
            f"--since {text!r}: give a number and a unit (s, m, h, d or w), e.g. 30m, 1h or 2d"
        )
    return int(found.group(1)) * _UNITS_MS[found.group(2)]


@dataclass(frozen=True)
class Selection:
    """Which runs: one function's, in these statuses (None: any), created in the last
    `since_ms` milliseconds (None: whenever)."""

    function: str
    statuses: tuple[str, ...] | None = None
    since_ms: int | None = None

    def check(self, *, unfinished: bool = False) -> None:
        """InputError for an unknown status (or, with `unfinished`, a status of finished runs:
        what a cancel can't act on), before anything is opened."""
        if not self.function:
            raise InputError("--function needs a function id")
        for status in self.statuses or ():
            check_run_status(status)
            if unfinished and status not in ACTIVE_RUN_STATUSES:
                raise InputError(f"a {status} run can't be cancelled: it has finished")


@dataclass
class Bulk:
    """What an action on many runs did: for each run acted on, its id and the run the action
    left (the cancelled run, the new replay); the runs skipped, with the reason."""

    done: list[tuple[str, RunRecord]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def select_runs(
    store: Store, selection: Selection, *, unfinished: bool = False, now_ms: int | None = None
) -> list[RunRecord]:
    """The runs `selection` matches, oldest first (with `unfinished`: only runs not finished)."""
    selection.check(unfinished=unfinished)
    statuses: Iterable[str] | None = selection.statuses
    if unfinished and not statuses:
        statuses = sorted(ACTIVE_RUN_STATUSES)
    cutoff = None
    if selection.since_ms is not None:
        cutoff = (_wall_ms() if now_ms is None else now_ms) - selection.since_ms
    found = [
        run
        for run in store.list_runs(function=selection.function, status=statuses)
        if cutoff is None or run.created_at >= cutoff
    ]
    found.reverse()
    return found


def cancel_runs(
    store: Store,
    run_ids: Iterable[str],
    *,
    cancel: Callable[[str], RunRecord] | None = None,
) -> Bulk:
    """Cancel each run (`cancel`: a live engine's, else the journal's `cancel_run`)."""
    return _each(run_ids, cancel or (lambda run_id: actions.cancel_run(store, run_id)))


def replay_runs(
    store: Store,
    run_ids: Iterable[str],
    *,
    data: Any = None,
    replay: Callable[[str], RunRecord] | None = None,
) -> Bulk:
    """Queue a new run of each run's event (with `data`, the new events carry it instead).

    `replay`: a live engine's (taking a run id, with any new data bound), else the journal's
    `replay_run`."""
    if replay is not None:
        return _each(run_ids, replay)
    if data is not None:
        check_data(data)  # once, up front: bad data is refused outright, not skipped run by run
    return _each(run_ids, lambda run_id: actions.replay_run(store, run_id, data=data))


def check_data(data: Any) -> None:
    """InputError unless `data` can be a replay's event data (a JSON object, not too large)."""
    actions.make_event("replay", data)


def _each(run_ids: Iterable[str], act: Callable[[str], RunRecord]) -> Bulk:
    result = Bulk()
    for run_id in run_ids:
        try:
            result.done.append((run_id, act(run_id)))
        except InputError as exc:
            result.skipped.append((run_id, str(exc)))
    return result
