"""A run as one JSON document, to take it elsewhere (CONTRACT §7).

`export_run` builds the document that the MCP server's `export_run` tool returns and that
`durable export RUN_ID` prints; `durable import` reads it back (`_import.py`). With its child
runs (`step.invoke`), each child is a document of the same shape in the parent's `children`.
"""

from __future__ import annotations

from typing import Any

from ..store import RunRecord, Store
from . import _actions as actions
from ._queries import run_steps, run_summary

__all__ = ["EXPORT_FORMAT", "EXPORT_VERSION", "export_run"]

EXPORT_FORMAT = "durable-run"
EXPORT_VERSION = 1
# which runner held the run is this journal's business, not the document's: an imported run
# belongs to no runner until one claims it where it lands
_LOCAL = ("owner", "steps", "pending_failures")


def export_run(store: Store, run_id: str, *, with_children: bool = False) -> dict[str, Any]:
    """One run (by id or a unique part of one) with its event and steps, as one document.

    `run` is the run as `durable runs --json` lists it, without its event; `event` is the event
    it ran for; `steps` are its steps as `durable show --json` lists them, in execution order.
    `with_children`: `children` holds the documents of its child runs (and theirs), in the
    order they started; a child no longer in the journal is left out.
    """
    return _document(store, actions.find_run(store, run_id), with_children)


def _document(store: Store, run: RunRecord, with_children: bool) -> dict[str, Any]:
    summary = run_summary(run)
    event = summary.pop("event")
    for key in _LOCAL:
        summary.pop(key, None)
    doc = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "run": summary,
        "event": event,
        "steps": run_steps(store, run),
    }
    if with_children:
        found = store.get_runs(list(run.children))
        doc["children"] = [_document(store, found[c], True) for c in run.children if c in found]
    return doc
