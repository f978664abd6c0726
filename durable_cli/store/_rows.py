"""Rows of diskcache's `Cache` table, read and written with plain SQL.

diskcache's own `get`/`set`/`delete` are not used for the journal, for two reasons:
- `get` reads a missing value file as "no such key", which would silently drop an event or a
  run; here a missing file is an error (unless the row changed under a concurrent reader);
- inside a transaction, `set` and `delete` remove a replaced value file at once, before the
  commit: a crash then leaves the committed row pointing at nothing. Here old files go only
  after the commit, and new files go again if the transaction rolls back.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import LeaseLost
from . import _fence
from ._codec import MissingValueFile
from ._guard import retry_busy
from ._open import JournalCache

__all__ = ["Rows", "after"]

_GONE = object()  # a row another process removed between the query and the read


def after(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class Rows:
    """Key/value rows (`raw = 1`, string keys) with transactions that clean up value files."""

    def __init__(self, cache: JournalCache, path: str) -> None:
        """Work on `cache`'s table; `path` names the state dir in errors."""
        self.cache = cache
        self.path = path
        self._tx = threading.local()
        # (key, token) of the lease row every transaction must find, once this is a runner's
        self.fence: tuple[str, str] | None = None
        self._fence_table = False  # made (and committed) by this store: no CREATE to ask again

    @property
    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open."""
        return getattr(self._tx, "doomed", None) is not None

    def holds_fence(self) -> bool:
        """Whether the lease row this store's writes are fenced by is still ours."""
        fence = self.fence
        return fence is None or self.cache.sql(_fence.HOLDS, fence).fetchone() is not None

    def set_fence_token(self, key: str, token: str) -> None:
        """Inside a transaction: make `token` the one the writes fenced by `key` must carry."""
        if not self._fence_table:
            self.cache.sql(_fence.CREATE)
        self.cache.sql(_fence.SET, (key, token))

    def drop_fence_token(self, key: str) -> None:
        """Inside a transaction: revoke the lease `key`, so writes fenced by it are refused."""
        if not self._fence_table:  # a store that never registered may revoke another's
            self.cache.sql(_fence.CREATE)
        self.cache.sql(_fence.DROP, (key,))

    def fence_table_made(self) -> None:
        """After a committed `set_fence_token`: the fence table exists from now on."""
        self._fence_table = True

    @contextlib.contextmanager
    def transaction(self, *, fenced: bool = True) -> Iterator[None]:
        """BEGIN IMMEDIATE (busy retried, bounded) ... COMMIT; nested calls join the outer one.

        With a fence set, a transaction begins by checking it (`fenced=False`: the lease's own
        bookkeeping) and raises `LeaseLost`, writing nothing, when the lease was revoked."""
        if self.in_transaction:
            yield
            return
        cache, tx = self.cache, self._tx
        sql = cache.sql
        retry_busy(self.path, lambda: sql("BEGIN IMMEDIATE"))
        tx.doomed, tx.fresh = [], []
        cache.join_transactions(threading.get_ident())  # diskcache's calls inside join it
        try:
            if fenced and not self.holds_fence():
                raise LeaseLost(f"{self.path}: this runner's lease was revoked")
            yield
            sql("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                sql("ROLLBACK")  # COMMIT itself can fail (disk full); SQLite may have ended it
            fresh, tx.doomed, tx.fresh = tx.fresh, None, None
            cache.join_transactions(None)
            for name in fresh:
                cache.disk.remove(name)
            raise
        doomed, tx.doomed, tx.fresh = tx.doomed, None, None
        cache.join_transactions(None)
        for name in doomed:
            cache.disk.remove(name)

    def _replaced(self, old: str | None, new: str | None) -> None:
        """After a write: drop the old value file (after the commit), keep the new one."""
        tx, disk = self._tx, self.cache.disk
        if getattr(tx, "doomed", None) is None:
            if old:
                disk.remove(old)
            return
        if old:
            tx.doomed.append(old)
        if new:
            tx.fresh.append(new)

    def get(self, key: str) -> Any:
        """The value at `key`, or None."""
        sql = self.cache.sql
        fetch = self.cache.disk.fetch
        query = "SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = 1"
        while True:
            row = sql(query, (key,)).fetchone()
            if row is None:
                return None
            try:
                return fetch(row[0], row[1], row[2], False)
            except MissingValueFile:
                if not self._moved(key, row[1]):
                    raise
                # another process replaced the row (and removed its old file): read it again

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        """The values at `keys` that exist, in one read per 500 keys."""
        found, rows = {}, []
        for i in range(0, len(keys), 500):  # SQLite caps the parameters of one statement
            chunk = keys[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            query = (
                f"SELECT key, mode, filename, value FROM Cache WHERE key IN ({marks}) AND raw = 1"
            )
            rows += self._query(query, chunk)
        for key, mode, filename, value in rows:
            decoded = self._decode(key, mode, filename, value)
            if decoded is not _GONE:
                found[key] = decoded
        return found

    def _decode(self, key: str, mode: int, filename: str | None, value: Any) -> Any:
        """A row read by a query: its value, read again if another process replaced it (and
        removed its old file) meanwhile; `_GONE` if it went."""
        try:
            return self.cache.disk.fetch(mode, filename, value, False)
        except MissingValueFile:
            if not self._moved(key, filename):
                raise
            again = self.get(key)
            return _GONE if again is None else again

    def _moved(self, key: str, filename: str | None) -> bool:
        row = self.cache.sql(
            "SELECT filename FROM Cache WHERE key = ? AND raw = 1", (key,)
        ).fetchone()
        return row is None or row[0] != filename

    def put(self, key: str, value: Any, *, tag: str | None = None, new: bool = False) -> None:
        """Write `value` at `key` (`new`: the caller knows no row exists yet)."""
        cache = self.cache
        sql = cache.sql
        size, mode, filename, db_value = cache.disk.store(value, False, key=key)
        try:
            old = None
            if not new:
                old = sql("SELECT filename FROM Cache WHERE key = ? AND raw = 1", (key,)).fetchone()
            now = time.time()
            sql(
                "INSERT OR REPLACE INTO Cache(key, raw, store_time, expire_time, access_time,"
                " access_count, tag, size, mode, filename, value)"
                " VALUES (?, 1, ?, NULL, ?, 0, ?, ?, ?, ?, ?)",
                (key, now, now, tag, size, mode, filename, db_value),
            )
        except BaseException:
            if filename:
                cache.disk.remove(filename)
            raise
        self._replaced(old[0] if old else None, filename)

    def delete(self, key: str) -> None:
        """Remove the row at `key` (and, after the commit, its value file)."""
        sql = self.cache.sql
        row = sql("SELECT filename FROM Cache WHERE key = ? AND raw = 1", (key,)).fetchone()
        if row is None:
            return
        sql("DELETE FROM Cache WHERE key = ? AND raw = 1", (key,))
        self._replaced(row[0], None)

    def delete_inline_range(self, lo: str, hi: str) -> None:
        """Remove the rows with `lo <= key < hi`: index rows only, which never name a file."""
        self.cache.sql("DELETE FROM Cache WHERE key >= ? AND key < ? AND raw = 1", (lo, hi))

    def scan(
        self,
        prefix: str,
        *,
        reverse: bool = False,
        limit: int | None = None,
        tag: str | Iterable[str] | None = None,
        start_after: str | None = None,
    ) -> Iterator[tuple[str, Any]]:
        """Stream `(key, value)` for keys starting with `prefix`, in key order, in batches
        (only rows with `tag`, or one of the tags, when given)."""
        tags = None if tag is None else [tag] if isinstance(tag, str) else sorted(tag)
        lo, hi = prefix, after(prefix)
        remaining = limit
        while remaining is None or remaining > 0:
            batch = 256 if remaining is None else min(256, remaining)
            where = "key >= ? AND key < ? AND raw = 1"
            args: list[Any] = [lo, hi]
            if start_after is not None:
                where += " AND key < ?" if reverse else " AND key > ?"
                args.append(start_after)
            if tags is not None:
                # the tag column is read from the row, not decoded from the value: a filter
                # here skips decoding every finished run to find the few unfinished ones
                where += f" AND tag IN ({', '.join('?' * len(tags))})"
                args += tags
            order = "DESC" if reverse else "ASC"
            query = (
                f"SELECT key, mode, filename, value FROM Cache WHERE {where} "
                f"ORDER BY key {order} LIMIT ?"
            )
            rows = self._query(query, (*args, batch))
            for key, mode, filename, value in rows:
                found = self._decode(key, mode, filename, value)
                if found is not _GONE:
                    yield key, found
            if len(rows) < batch:
                return
            start_after = rows[-1][0]
            if remaining is not None:
                remaining -= len(rows)

    def keys(self, query: str, args: Any) -> list[str]:
        """The keys a `SELECT key …` query finds (no value is read)."""
        return [row[0] for row in self._query(query, args)]

    def count(self, prefix: str, tag: str | None = None) -> int:
        """How many keys start with `prefix` (with that tag)."""
        query = "SELECT COUNT(*) FROM Cache WHERE key >= ? AND key < ? AND raw = 1"
        args: list[Any] = [prefix, after(prefix)]
        if tag is not None:
            query += " AND tag = ?"
            args.append(tag)
        return self._query(query, args)[0][0]

    def _query(self, query: str, args: Any) -> list[Any]:
        """A read, busy retried (a generator can't be retried as a whole from outside)."""
        sql = self.cache.sql
        return retry_busy(
            self.path, lambda: sql(query, args).fetchall(), retry=not self.in_transaction
        )
