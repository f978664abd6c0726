"""Group commit: concurrent writers share one SQLite statement instead of queueing for one each.

A commit costs the same whether it carries one step or twenty, so when several runs journal steps
at once, the first writer to arrive becomes the leader and writes every row that queued up behind
it while it waited for the database; the others wait for that commit, then go on. Nobody
proceeds before its row is committed.

The rows of a batch go in one multi-row upsert, which SQLite runs as one implicit transaction in
one call. One call matters as much as one commit: Python releases the GIL around each SQLite call
and the leader must win it back from a dozen busy workers after each, so a BEGIN, a statement
per row and a COMMIT cost several times what the database itself takes.

The queueing (who leads, who waits on which lock) is `_batch.Batcher`, shared with PostgreSQL;
this module is SQLite's commit, made with `_upsert`'s statement.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..errors import LeaseLost
from . import _fence
from ._batch import Batcher
from ._upsert import Fence, Row, upsert_rows

__all__ = ["GroupCommit", "Row", "upsert_rows"]

_MAX_ROWS = 4000  # rows per statement: SQLite takes at most 32,766 parameters, 5 a row


class GroupCommit:
    """Writes rows in shared statements, leader/follower style (`_batch.Batcher`)."""

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
        self._batcher: Batcher[list[Row], list[bool]] = Batcher(self.commit)

    def write(self, key: str, tag: str | None, value: object) -> bool:
        """Insert or update the row at `key` (inline value); False when the row was left alone
        (a finished run, or a row naming a value file). Raises what SQLite raised."""
        return self._batcher.submit([(key, tag, value)])[0]

    def write_rows(self, rows: list[Row]) -> list[bool]:
        """`write` for several rows, committed together (with whatever else is queued)."""
        return self._batcher.submit(rows)

    def commit(self, batch: list[list[Row]]) -> list[list[bool]]:
        """Write every writer's rows in one statement; for each writer, which of its rows were
        written. Raises what SQLite raised (nothing written), or LeaseLost when the fence's
        lease went to another runner."""
        con = self._connection()
        rows = batch[0] if len(batch) == 1 else [row for item in batch for row in item]
        fence = self._fence()
        changed = _upsert(con, rows, fence)
        self._after_commit()
        if changed == len(rows):
            written = []  # a loop: before Python 3.12 a comprehension is a function call more
            for item in batch:
                written.append([True] * len(item))
            return written
        if fence is not None and con.execute(_fence.HOLDS, fence).fetchone() is None:
            # nothing was written: the lease went to another runner
            raise LeaseLost(f"lease {fence[0]} was revoked: write refused")
        # some rows were left alone (rare: a run cancelled meanwhile): ask which
        return [[_holds(con, key, value) for key, _, value in item] for item in batch]


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
