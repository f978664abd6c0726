"""`durable import`: an exported run (and its child runs) recreated in this journal.

The document is checked whole (`read_export`, for the run and every child) before anything is
written, then the runs, their steps and their events are written in one transaction. Ids are
kept where they are free here; a run or event id this journal already has gets a fresh one,
and every reference to it inside the document (a child's parent, a parent's children, an
invoke step's child) follows.

An imported run is a finished run: no runner here picks it up. A run exported before it ended
(held for a code change, retrying, waiting for a child) lands `cancelled`, its reason saying
what it was; its steps stay as they were, so `show` and `replay --from` see the same journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..store import RUN_STATUSES, TERMINAL_RUN_STATUSES, RunRecord, StepRecord, Store, new_id
from ._events import STEP_ID, make_event
from ._exported import ExportedRun, read_export

__all__ = ["Imported", "check_import", "import_run"]


@dataclass
class Imported:
    """What an import wrote: the top run's id, every run written, and the ids that changed."""

    run_id: str
    runs: list[RunRecord]
    renamed_runs: dict[str, str] = field(default_factory=dict)  # id in the file -> id here
    renamed_events: dict[str, str] = field(default_factory=dict)


def check_import(document: Mapping[str, Any]) -> list[ExportedRun]:
    """The document's runs (the top one first, then its children, depth first), checked whole
    without a store: InputError for anything that is not a document `export_run` writes."""
    exported = _flatten(document)
    for item in exported:
        _check_run(item)
    return exported


def import_run(store: Store, document: Mapping[str, Any]) -> Imported:
    """Recreate an exported run, its event and its child runs (`children`) in `store`.

    InputError (nothing written) for anything that is not a document `export_run` writes.
    """
    exported = check_import(document)
    runs = [e.run for e in exported]
    renamed_runs = _fresh_ids([r.id for r in runs], lambda i: store.get_run(i) is not None)
    events = {e.event["id"]: _event(e) for e in exported}
    renamed_events = _fresh_ids(list(events), lambda i: store.get_event(i) is not None)
    for old_id, event in events.items():
        event["id"] = renamed_events.get(old_id, old_id)
    steps = [step for item in exported for step in _relink(item, renamed_runs, events)]
    with store.batch():
        for event in events.values():
            store.put_event(event, queue=False)
        store.create_runs(runs, steps)
    store.notify()
    return Imported(runs[0].id, runs, renamed_runs, renamed_events)


def _flatten(document: Mapping[str, Any]) -> list[ExportedRun]:
    """The run and its children (depth first, parents before children), each one checked."""
    found: list[ExportedRun] = []
    pending: list[tuple[Mapping[str, Any], str]] = [(document, "")]
    while pending:
        doc, where = pending.pop()
        try:
            found.append(read_export(doc))
        except InputError as exc:
            raise InputError(f"{where}{exc}") from None
        children = doc.get("children", [])
        if not isinstance(children, list):
            raise InputError(f"{where}exported run: 'children' must be a list")
        within = f"{where}child run {found[-1].run.id}: "
        pending.extend((child, within) for child in reversed(children))
    seen: set[str] = set()
    for item in found:
        if item.run.id in seen:
            raise InputError(f"exported run: run {item.run.id} is in the file twice")
        seen.add(item.run.id)
    return found


def _check_run(item: ExportedRun) -> None:
    """What the journal's keys and indexes need of a run that `read_export` does not check."""
    run = item.run
    where = f"exported run {run.id!r}"
    if not STEP_ID.match(run.id):
        raise InputError(f"{where}: not a valid run id (no spaces or slashes)")
    if not STEP_ID.match(run.function):
        raise InputError(f"{where}: function id {run.function!r} is not valid")
    if run.status not in RUN_STATUSES:
        raise InputError(f"{where}: unknown status {run.status!r}")
    if not isinstance(run.created_at, int) or isinstance(run.created_at, bool):
        raise InputError(f"{where}: 'created_at' must be epoch milliseconds")
    if not isinstance(run.children, list) or not isinstance(run.meta, dict):
        raise InputError(f"{where}: 'children' must be a list and 'meta' an object")
    seqs = [step.seq for step in item.steps]
    if len(set(seqs)) != len(seqs) or any(seq < 0 for seq in seqs):
        raise InputError(f"{where}: two steps share a 'seq' (or one is negative)")
    _event(item)


def _event(item: ExportedRun) -> dict[str, Any]:
    """The run's event, checked as `durable send` checks one (a copy: ids may change)."""
    ev = item.event
    try:
        return make_event(ev["name"], ev.get("data"), event_id=ev["id"], ts=ev.get("ts"))
    except InputError as exc:
        raise InputError(f"exported run {item.run.id!r}: its event: {exc}") from None


def _fresh_ids(ids: list[str], taken: Any) -> dict[str, str]:
    """A fresh id for each of `ids` that `taken` says this journal has already."""
    return {old: new_id() for old in ids if taken(old)}


def _relink(
    item: ExportedRun, runs: dict[str, str], events: dict[str, dict[str, Any]]
) -> list[StepRecord]:
    """Give the run its id and event here, point its links at the ids here, make it finished.

    `runs` maps the file's run ids that changed to their new ones; `events` holds the checked
    events by their id in the file, each with its id here."""
    run = item.run
    original = run.id
    run.id = runs.get(original, original)
    run.event = dict(events[item.event["id"]])
    if run.parent and run.parent.get("run") in runs:
        run.parent = dict(run.parent, run=runs[run.parent["run"]])
    run.children = [runs.get(child, child) for child in run.children]
    run.owner, run.wake_at = None, None  # no runner here holds it, and no timer wakes it
    if run.status not in TERMINAL_RUN_STATUSES:
        was = f"{run.status}: {run.reason}" if run.reason else run.status
        run.status, run.reason = "cancelled", f"imported; it was {was}"
        run.ended_at = _last_moment(run, item.steps)
    run.meta = dict(run.meta, imported={"from": original})
    for step in item.steps:
        step.run_id = run.id
        child = step.meta.get("child")
        if isinstance(child, str) and child in runs:
            step.meta = dict(step.meta, child=runs[child])
    return item.steps


def _last_moment(run: RunRecord, steps: list[StepRecord]) -> int:
    """The latest time the run's record knows of: when a run that never ended stopped."""
    times = [run.created_at, run.started_at, run.ended_at]
    times += [t for s in steps for t in (s.started_at, s.ended_at)]
    return max(t for t in times if isinstance(t, int))
