"""The store's reads that take more than one line: listing runs, finding them by id prefix."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .._records import RUN_STATUSES, RunRecord
from ._db import Database
from ._schema import statuses_sql

__all__ = ["list_runs", "match_run_ids", "prefix_range"]

_PAGE = 256  # rows per read while streaming a listing


def prefix_range(prefix: str) -> tuple[str, str]:
    """(lo, hi) with `lo <= key < hi` exactly for the keys that start with `prefix` (byte
    order, as the "C" collation compares; `prefix` non-empty)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def list_runs(
    db: Database,
    *,
    function: str | None,
    status: str | Iterable[str] | None,
    limit: int | None,
    before: str | None,
) -> Iterator[RunRecord]:
    """Runs newest first, filtered, streamed a page at a time (no transaction held between)."""
    where: list[str] = []
    args: list[Any] = []
    if function is not None:
        where.append("function = %s")
        args.append(function)
    if status is not None:
        wanted = {status} if isinstance(status, str) else set(status)
        if not wanted & set(RUN_STATUSES):
            return
        where.append(f"status IN ({statuses_sql(wanted)})")  # inlined: the indexes apply
    count = 0
    while limit is None or count < limit:
        page = _PAGE if limit is None else min(_PAGE, limit - count)
        clauses = [*where, "id < %s"] if before is not None else where
        query = "SELECT id, body FROM durable.runs"
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += " ORDER BY id DESC LIMIT %s"
        rows = db.query(query, [*args, *([before] if before is not None else []), page])
        for _, body in rows:
            yield RunRecord.from_dict(body)
        count += len(rows)
        if len(rows) < page:
            return
        before = rows[-1][0]


def match_run_ids(db: Database, text: str, limit: int) -> tuple[list[str], int]:
    """The newest `limit` run ids that `text` starts (case-insensitive), else ends (from four
    characters on), and how many match in all."""
    text = text.strip().upper()
    if not text or "/" in text:
        return [], 0
    lo, hi = prefix_range(text)
    where, args = "id >= %s AND id < %s", [lo, hi]
    ((total,),) = db.query(f"SELECT count(*) FROM durable.runs WHERE {where}", args)
    if not total and len(text) >= 4:
        where, args = "right(id, %s) = %s", [len(text), text]
        ((total,),) = db.query(f"SELECT count(*) FROM durable.runs WHERE {where}", args)
    if not total:
        return [], 0
    rows = db.query(
        f"SELECT id FROM durable.runs WHERE {where} ORDER BY id DESC LIMIT %s", [*args, limit]
    )
    return [run_id for (run_id,) in rows], total
