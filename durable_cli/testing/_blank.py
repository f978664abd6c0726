"""A new journal's rows, kept so that a reused journal can be wiped back to exactly them."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..store import Store

__all__ = ["Blank"]

# diskcache's settings, written when the journal is created and only read after that (a store
# attaches without rewriting them): every other table is put back as it was
_CONSTANT = "Settings"
_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
# past this, the wipe also folds the write-ahead log into the database and empties it: calls
# append to it and nothing else would, with no runner's checkpoint thread behind them, and a
# long log makes every read look further for its pages
_WAL_LIMIT_BYTES = 2**20


class Blank:
    """The rows of `store`'s journal as they are now (when it is new), and `restore()`."""

    def __init__(self, store: Store) -> None:
        """Remember the rows of `store`, a journal nothing has written to yet."""
        self._store = store
        cache = store.rows.cache
        self._rows: dict[str, tuple[str, list[Any]]] = {}
        for (table,) in cache.sql(_TABLES).fetchall():
            if table != _CONSTANT:
                self._rows[table] = _snapshot(cache.connection, table)
        self._wal = os.path.join(cache.directory, "cache.db-wal")

    def restore(self, first: Callable[[], None] | None = None) -> None:
        """Put the journal back to the rows it had when new, in one transaction (value files
        that rows named go after it commits), calling `first()` inside it (its writes join
        the commit); wake-ups meant for the last engine are dropped."""
        store = self._store
        rows = store.rows
        cache = rows.cache
        sql = cache.sql
        with rows.transaction(fenced=False):  # the journal's own upkeep, no runner's write
            if first is not None:
                first()
            # a runner that broke off keeps no fence on the next call's writes
            store.leases.release()
            files = sql("SELECT filename FROM Cache WHERE filename IS NOT NULL").fetchall()
            for (table,) in sql(_TABLES).fetchall():
                if table == _CONSTANT:
                    continue
                sql(f'DELETE FROM "{table}"')
                insert, saved = self._rows.get(table, ("", []))
                if saved:  # a table made after the journal was new starts empty
                    cache.connection.executemany(insert, saved)
        for (name,) in files:
            cache.disk.remove(name)
        store.drain_wake()
        if _size(self._wal) > _WAL_LIMIT_BYTES:
            sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _snapshot(con: Any, table: str) -> tuple[str, list[Any]]:
    """The statement that puts `table`'s rows back, and the rows."""
    cursor = con.execute(f'SELECT * FROM "{table}"')
    columns = [d[0] for d in cursor.description]
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks})', cursor.fetchall()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
