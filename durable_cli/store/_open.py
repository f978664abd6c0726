"""Opening a state dir: every check before the first write, atomic creation, no settings churn.

- A state dir is checked with plain reads first, then by SQLite on a read-only connection
  (`_files`), before anything opens it for writing: a refused dir is left as it was.
- A new journal is built in a private folder inside the state dir and hard-linked into place
  complete with its schema record, so a process racing to open a brand-new state dir sees
  either no journal or a whole one (never a half-initialised file).
- An existing journal is attached without diskcache's `Cache()` set-up, which rewrites a dozen
  settings rows (each a write lock) every time a `durable send` opens the store.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
import time
from typing import Any

import diskcache

from ..errors import InputError, SchemaVersionError, StateError
from ._codec import JSONDisk
from ._files import (
    BUSY_TIMEOUT_S,
    DB,
    DURABILITY,
    DURABILITY_KEY,
    INIT_PREFIX,
    OPENING,
    SCHEMA_VERSION,
    WAL_AUTOCHECKPOINT,
    check_database,
    mark_attached,
    peek_version,
    prepare_dir,
    raw_reads_safe,
)
from ._send import NAMES_INDEXED

__all__ = ["JournalCache", "create_journal", "open_journal", "raw_reads_safe"]

SETTINGS: dict[str, Any] = {
    "eviction_policy": "none",
    "cull_limit": 0,
    # runs carry their status as the diskcache tag, unindexed: an index would cost every step's
    # commit another B-tree write, and status queries scan the run range newest-first anyway
    "tag_index": False,
    "statistics": False,
    "disk_min_file_size": 2**16,
    "sqlite_synchronous": 1,
}


def create_journal(path: str) -> None:
    """Build a journal with its schema record aside, then link it in (losing a race is fine)."""
    import shutil  # here: only creating a journal needs them, and `durable send` counts ms
    import tempfile

    staging = tempfile.mkdtemp(prefix=INIT_PREFIX, dir=path)
    try:
        # SQLite gives the -wal and -shm files the database's mode: make it owner-only first
        os.close(os.open(os.path.join(staging, DB), os.O_WRONLY | os.O_CREAT, 0o600))
        cache = diskcache.Cache(staging, disk=JSONDisk, timeout=BUSY_TIMEOUT_S, **SETTINGS)
        try:
            cache.set("meta/schema", {"version": SCHEMA_VERSION})
            cache.set(NAMES_INDEXED, 1)  # no events yet: each gets its name index row
            _lighten(cache)
        finally:
            cache.close()  # the last connection: SQLite folds the WAL into the file, deletes it
        built = os.path.join(staging, DB)
        if os.path.exists(built + "-wal"):
            raise StateError(f"{path}: could not finish creating the journal (WAL left over)")
        try:
            os.link(built, os.path.join(path, DB))
        except FileExistsError:
            pass  # another process created it first: theirs is complete, use it
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            # no hard links on this file system: a rename is atomic too, but could replace
            # a journal created a moment ago, so only when there still is none
            if not os.path.exists(os.path.join(path, DB)):
                os.rename(built, os.path.join(path, DB))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# diskcache keeps a running count and size of its rows in `Settings` with triggers, and indexes
# expiry times; durable uses neither (no eviction, no expiry). Each costs every commit another
# page write: without them a journaled step costs what a plain SQLite insert does.
_UNUSED = (
    "DROP TRIGGER IF EXISTS Settings_count_insert",
    "DROP TRIGGER IF EXISTS Settings_count_delete",
    "DROP TRIGGER IF EXISTS Settings_size_insert",
    "DROP TRIGGER IF EXISTS Settings_size_update",
    "DROP TRIGGER IF EXISTS Settings_size_delete",
    "DROP INDEX IF EXISTS Cache_expire_time",
)


def _lighten(cache: diskcache.Cache) -> None:
    """Drop the bookkeeping diskcache maintains on every write that a journal never reads."""
    for statement in _UNUSED:
        cache._sql(statement)


def open_journal(path: str, *, create: bool, durability: str | None) -> JournalCache:
    """Check, create if needed and attach the journal in the state dir at `path`."""
    if durability is not None and durability not in DURABILITY:
        raise InputError(f"durability {durability!r} is not one of {', '.join(sorted(DURABILITY))}")
    with OPENING:
        if prepare_dir(path, create):
            first = raw_reads_safe(path)  # not attached in this process yet: check it whole
            if first:
                check_database(path)
            version = peek_version(path, check_pages=first)
            if version is None:
                raise StateError(f"{path}: not a durable state dir (no schema record)")
            if version != SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"{path}: state dir has schema version {version}; this durable reads"
                    f" version {SCHEMA_VERSION}. Use a matching durable or another --state-dir"
                )
        else:
            create_journal(path)
        cache = JournalCache.attach(path)
        cache.settle_durability(durability)
        mark_attached(path)
    return cache


_pid = [os.getpid()]  # this process's id, kept current across fork() without asking the OS
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


class JournalCache(diskcache.Cache):
    """diskcache's `Cache` attached to an existing journal, at the journal's durability."""

    synchronous = 1
    durability = "normal"

    @classmethod
    def attach(cls, directory: str) -> JournalCache:
        """Attach without rewriting settings: only what `Cache.__init__` leaves set is set."""
        self = cls.__new__(cls)
        self._directory = directory
        self._timeout = BUSY_TIMEOUT_S
        self._local = threading.local()
        self._txn_id = None
        settings = {**SETTINGS, **dict(self._sql("SELECT key, value FROM Settings").fetchall())}
        for key, value in settings.items():
            setattr(self, key, value)
        disk_args = {k[5:]: v for k, v in settings.items() if k.startswith("disk_")}
        self._disk = JSONDisk(directory, **disk_args)
        ((self._page_size,),) = self._sql("PRAGMA page_size").fetchall()
        return self

    def settle_durability(self, wanted: str | None) -> str:
        """Use `wanted` and record it in the journal, or (None) the level recorded there.

        Recorded, so that every process writing to this state dir (`durable send`, application
        code) commits as durably as the runner was told to, without being told itself.
        """
        sql = self._sql
        found = sql(
            "SELECT mode, value FROM Cache WHERE key = ? AND raw = 1", (DURABILITY_KEY,)
        ).fetchone()
        recorded = self._disk.fetch(found[0], None, found[1], False) if found else "normal"
        if recorded not in DURABILITY:
            recorded = "normal"
        if wanted is not None and wanted != recorded:
            size, mode, _, value = self._disk.store(wanted, False)
            now = time.time()
            sql(
                "INSERT OR REPLACE INTO Cache(key, raw, store_time, expire_time, access_time,"
                " access_count, tag, size, mode, filename, value)"
                " VALUES (?, 1, ?, NULL, ?, 0, NULL, ?, ?, NULL, ?)",
                (DURABILITY_KEY, now, now, size, mode, value),
            )
        self.durability = wanted or recorded
        self.synchronous = DURABILITY[self.durability]
        self._disk.fsync = self.durability == "full"
        sql(f"PRAGMA synchronous = {self.synchronous}")  # this thread's connection is open
        return self.durability

    @property
    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use, and again in a forked child)."""
        local = self._local
        con: sqlite3.Connection | None = getattr(local, "con", None)
        if con is not None and local.pid == _pid[0]:
            return con  # every statement asks: no getpid() system call each time
        fresh = con is None or getattr(local, "pid", None) != os.getpid()
        con = diskcache.Cache._con.fget(self)  # type: ignore[attr-defined]
        if fresh:
            con.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
        if fresh and self.synchronous != SETTINGS["sqlite_synchronous"]:
            # per connection, not in diskcache's Settings table: another process opening the
            # store with the default must not change this one's level (nor the reverse)
            con.execute(f"PRAGMA synchronous = {int(self.synchronous)}")
        return con

    _con = connection  # the name diskcache's own methods ask for

    @property
    def sql(self) -> Any:
        """This thread's connection's `execute`: the store's rows are read and written with it."""
        return self.connection.execute

    _sql = sql  # the name diskcache's own methods ask for

    def join_transactions(self, thread: int | None) -> None:
        """Have diskcache's own calls from `thread` join the transaction it opened (None: no
        transaction is open)."""
        self._txn_id = thread

    def close(self) -> None:
        """Close this thread's connection."""
        with contextlib.suppress(sqlite3.Error):
            super().close()
