"""The statement that writes inline rows into diskcache's `Cache` table, many at once.

The group commit journals through it, and so does `durable send`'s fast path (`_send`), which
must not import `typing` nor the group commit's queue: this module imports neither.
"""

from __future__ import annotations

import sqlite3
import time

from . import _fence

__all__ = ["Fence", "Row", "upsert_rows"]

_COLUMNS = (
    "INSERT INTO Cache(key, raw, store_time, expire_time, access_time, access_count, tag,"
    " size, mode, filename, value) VALUES "
)
# inline values only, as diskcache stores a small raw value: size 0, mode 1 (MODE_RAW)
_ROW = "(?, 1, ?, NULL, ?, 0, ?, 0, 1, NULL, ?)"
# a row that names a value file is left alone (its writer must remove the old file), and so is a
# finished run (its status lives in the tag column, so SQLite checks without decoding anything)
_UPSERT = (
    " ON CONFLICT(key, raw) DO UPDATE SET store_time = excluded.store_time,"
    " access_time = excluded.access_time, tag = excluded.tag, size = excluded.size,"
    " mode = excluded.mode, value = excluded.value"
    " WHERE Cache.filename IS NULL"
    " AND (Cache.tag IS NULL OR Cache.tag NOT IN ('completed', 'failed', 'cancelled'))"
)


# a runner's writes: the same rows, written only while its lease row holds its token
_FENCED_COLUMNS = (
    "INSERT INTO Cache(key, raw, store_time, expire_time, access_time, access_count, tag,"
    " size, mode, filename, value) SELECT column1, 1, ?, NULL, ?, 0, column2, 0, 1, NULL,"
    " column3 FROM (VALUES "
)
_FENCED_ROW = "(?, ?, ?)"
_FENCE = ")" + _fence.EXISTS

Fence = tuple[str, str] | None  # the lease row's key and the token it must hold
Row = tuple[str, str | None, object]  # key, tag, value (JSON bytes, stored inline)


def upsert_rows(con: sqlite3.Connection, rows: list[Row], fence: Fence = None) -> int:
    """Insert or update up to 4,000 inline rows in one statement; how many it changed (none
    when a `fence` is given and its lease row no longer holds its token)."""
    now = time.time()
    if fence is None:
        args: list[object] = []
        for key, tag, value in rows:
            args += (key, now, now, tag, value)
        statement = _COLUMNS + ", ".join([_ROW] * len(rows)) + _UPSERT
        return con.execute(statement, args).rowcount
    args = [now, now]
    for row in rows:
        args += row
    args += fence
    statement = _FENCED_COLUMNS + ", ".join([_FENCED_ROW] * len(rows)) + _FENCE + _UPSERT
    return con.execute(statement, args).rowcount
