"""An exported run read back: the document `export_run` writes, checked and turned into records.

`durable_cli.testing.replay` replays one against current code; `durable import` recreates one.
Anything that is not such a document (another format, an unknown version, a missing or
malformed part) is bad input: an `InputError` naming what is wrong, before anything is written.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..store import STEP_STATUSES, RunRecord, StepRecord
from ._export import EXPORT_FORMAT, EXPORT_VERSION
from .kinds import KINDS

__all__ = ["ExportedRun", "load_export", "read_document", "read_export"]


@dataclass(frozen=True)
class ExportedRun:
    """An exported run: the run as it was, its event, and its steps in execution order."""

    run: RunRecord
    event: dict[str, Any]
    steps: list[StepRecord]


def load_export(source: str | os.PathLike[str] | Mapping[str, Any]) -> ExportedRun:
    """`read_export` of a file (by path) or of an already parsed document."""
    if isinstance(source, Mapping):
        return read_export(source)
    path = os.fspath(source)
    doc = read_document(path)
    try:
        return read_export(doc)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def read_document(path: str) -> Any:
    """An exported run's file (`-`: stdin) parsed as JSON, not yet checked; InputError if it
    can't be read or is not JSON."""
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise InputError(f"{path}: can't read the exported run ({exc.strerror})") from None
    except ValueError as exc:  # json.JSONDecodeError, and bytes that are not UTF-8
        raise InputError(f"{path}: not an exported run (not JSON: {exc})") from None


def read_export(doc: Mapping[str, Any]) -> ExportedRun:
    """Check an exported document and rebuild its run, event and step records."""
    if not isinstance(doc, Mapping) or doc.get("format") != EXPORT_FORMAT:
        raise InputError(f"not an exported run (expected format {EXPORT_FORMAT!r})")
    version = doc.get("version")
    if version != EXPORT_VERSION:
        raise InputError(
            f"exported run of version {version!r}: this durable reads version {EXPORT_VERSION}"
        )
    run, event, steps = doc.get("run"), doc.get("event"), doc.get("steps")
    if not isinstance(run, Mapping) or not _text(run.get("id")) or not _text(run.get("function")):
        raise InputError("exported run: 'run' must be an object with an 'id' and a 'function'")
    if not isinstance(event, Mapping) or not _text(event.get("name")) or not _text(event.get("id")):
        raise InputError("exported run: 'event' must be an object with an 'id' and a 'name'")
    if not isinstance(steps, list):
        raise InputError("exported run: 'steps' must be a list")
    record = RunRecord.from_dict({**run, "event": dict(event)})
    return ExportedRun(record, dict(event), [_step(record.id, i, s) for i, s in enumerate(steps)])


def _step(run_id: str, index: int, raw: Any) -> StepRecord:
    where = f"exported run: step {index + 1}"
    if not isinstance(raw, Mapping) or not _text(raw.get("id")):
        raise InputError(f"{where} must be an object with an 'id'")
    kind, status = raw.get("kind", "run"), raw.get("status")
    if kind not in KINDS:
        raise InputError(f"{where} ({raw['id']!r}) has an unknown kind {kind!r}")
    if status not in STEP_STATUSES:
        raise InputError(f"{where} ({raw['id']!r}) has an unknown status {status!r}")
    seq = raw.get("seq", index)
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise InputError(f"{where} ({raw['id']!r}) has a 'seq' that is not a number")
    log = raw.get("attempt_log") or []
    if not isinstance(log, list) or not all(isinstance(a, Mapping) for a in log):
        raise InputError(f"{where} ({raw['id']!r}) has an 'attempt_log' that is not a list")
    try:
        rec = StepRecord.from_store({**raw, "run_id": run_id, "seq": seq, "attempt_log": log})
    except (TypeError, KeyError) as exc:
        raise InputError(f"{where} ({raw['id']!r}) is malformed ({exc})") from None
    rec.stored = False  # not in any journal yet: whoever writes it inserts it
    return rec


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)
