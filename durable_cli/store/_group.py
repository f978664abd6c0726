"""Group commit: concurrent writers share one SQLite statement instead of queueing for one each.

A commit costs the same whether it carries one step or twenty, so when several runs journal steps
at once, the first writer to arrive becomes the leader and writes every row that queued up behind
it while it waited for the database; the others wait for that commit, then go on. Nobody
proceeds before its row is committed.

The rows of a batch go in one multi-row upsert, which SQLite runs as one implicit transaction in
one call. One call matters as much as one commit: Python releases the GIL around each SQLite call
and the leader must win it back from a dozen busy workers after each, so a BEGIN, a statement
per row and a COMMIT cost several times what the database itself takes.

Each waiter sleeps on its own lock, released when its row is committed (or when it is made the
next leader): a commit wakes exactly the writers it carried, never the whole crowd.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

from ..errors import LeaseLost
from . import _fence

__all__ = ["GroupCommit", "Row", "upsert_rows"]

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

_MAX_WRITES = 256  # writers per commit
_MAX_ROWS = 4000  # rows per statement: SQLite takes at most 32,766 parameters, 5 a row

Row = tuple[str, str | None, object]  # key, tag, value (JSON bytes, stored inline)


class _Pending:
    __slots__ = ("done", "error", "gate", "rows", "written")

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.done = False
        self.written = [False] * len(rows)
        self.error: BaseException | None = None
        self.gate = threading.Lock()
        self.gate.acquire()  # released once: committed, or promoted to leader


class GroupCommit:
    """Writes rows in shared statements, leader/follower style."""

    def __init__(
        self,
        connection: Callable[[], sqlite3.Connection],
        after_commit: Callable[[], None] = lambda: None,
        fence: Callable[[], Fence] = lambda: None,
    ) -> None:
        """`connection()` gives the calling thread's connection (autocommit mode);
        `after_commit()` is called by the writer that made each commit; `fence()` says which
        lease row must hold for a commit to be made at all."""
        self._connection = connection
        self._after_commit = after_commit
        self._fence = fence
        self._mutex = threading.Lock()
        self._queue: list[_Pending] = []
        self._leading = False

    def write(self, key: str, tag: str | None, value: object) -> bool:
        """Insert or update the row at `key` (inline value); False when the row was left alone
        (a finished run, or a row naming a value file). Raises what SQLite raised."""
        return self.write_rows([(key, tag, value)])[0]

    def write_rows(self, rows: list[Row]) -> list[bool]:
        """`write` for several rows, committed together (with whatever else is queued)."""
        mine = _Pending(rows)
        with self._mutex:
            self._queue.append(mine)
            follow = self._leading
            self._leading = True
        if follow:
            mine.gate.acquire()
            if mine.done:
                return _result(mine)
            # promoted: the previous leader left us at the head of the queue
        with self._mutex:
            batch, self._queue = self._queue[:_MAX_WRITES], self._queue[_MAX_WRITES:]
        try:
            self._commit(batch)
            self._after_commit()
        finally:
            for item in batch:
                item.done = True
                if item is not mine:
                    item.gate.release()
            with self._mutex:
                if self._queue:
                    self._queue[0].gate.release()  # it leads the next commit
                else:
                    self._leading = False
        return _result(mine)

    def _commit(self, batch: list[_Pending]) -> None:
        con = self._connection()
        rows = [row for item in batch for row in item.rows]
        fence = self._fence()
        try:
            changed = _upsert(con, rows, fence)
        except BaseException:
            if len(batch) == 1:
                raise
            # one bad write must not sink the others: each alone, errors to their writers
            for item in batch:
                try:
                    self._commit([item])
                except BaseException as exc:
                    item.error = exc
            return
        if changed == len(rows):
            for item in batch:
                item.written = [True] * len(item.rows)
            return
        if fence is not None and con.execute(_fence.HOLDS, fence).fetchone() is None:
            for item in batch:  # nothing was written: the lease went to another runner
                item.error = LeaseLost(f"lease {fence[0]} was revoked: write refused")
            return
        # some rows were left alone (rare: a run cancelled meanwhile): ask which
        for item in batch:
            item.written = [_holds(con, key, value) for key, _, value in item.rows]


def _holds(con: sqlite3.Connection, key: str, value: object) -> bool:
    row = con.execute("SELECT value FROM Cache WHERE key = ? AND raw = 1", (key,)).fetchone()
    return row is not None and row[0] == value


def _upsert(con: sqlite3.Connection, rows: list[Row], fence: Fence) -> int:
    """Write `rows` in one statement (its own transaction); very many in one transaction."""
    if len(rows) <= _MAX_ROWS:
        return upsert_rows(con, rows, fence)
    con.execute("BEGIN IMMEDIATE")
    try:
        changed = sum(
            upsert_rows(con, rows[i : i + _MAX_ROWS], fence) for i in range(0, len(rows), _MAX_ROWS)
        )
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return changed


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


def _result(item: _Pending) -> list[bool]:
    if item.error is not None:
        raise item.error
    return item.written
