"""The embedded store: one diskcache `Cache` (SQLite, WAL) in the state dir, JSON values only.

Keys are strings laid out so that SQLite's key index answers every query as a range scan:

    meta/schema                    {"version": N}
    ev/<event id>                  the event
    q/<ts ms>/<event id>           queued event (removed in the transaction that creates its runs)
    run/<run id>                   the run, tagged with its status
    fn/<function id>/<run id>      function index, written once when the run is created
    st/<run id>/<seq>              one step of a run's journal, in execution order
    fail/<scope>/<step id>         an injected failure (scope: run:<id> or fn:<id>)
    flag/...                       small settings (step mode for a function, waits, …)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import diskcache

from ..errors import SchemaVersionError, StateError, StateLockedError
from ._codec import JSONDisk, loads
from ._group import GroupCommit
from ._records import TERMINAL_RUN_STATUSES, RunRecord, StepRecord

__all__ = ["SCHEMA_VERSION", "DiskcacheStore", "open_store"]

SCHEMA_VERSION = 1
_DB = "cache.db"
_LOCK = "runner.lock"
_WAKE = "wake"
_SETTINGS = {
    "eviction_policy": "none",
    "cull_limit": 0,
    # runs carry their status as the diskcache tag, unindexed: an index would cost every step's
    # commit another B-tree write, and status queries scan the run range newest-first anyway
    "tag_index": False,
    "statistics": False,
    "disk_min_file_size": 2**16,
    "sqlite_synchronous": 1,
}


def _after(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _peek_version(db: str) -> int | None:
    """Read the schema version without writing anything (not even diskcache's settings)."""
    # with no WAL beside it, `immutable` reads the file without creating -wal/-shm files;
    # with one, a read-only connection is needed to see what the WAL holds
    flags = "mode=ro" if os.path.exists(db + "-wal") else "mode=ro&immutable=1"
    try:
        con = sqlite3.connect(f"file:{db}?{flags}", uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise StateError(f"{db}: can't open the state database ({exc})") from None
    try:
        row = con.execute(
            "SELECT value FROM Cache WHERE key = 'meta/schema' AND raw = 1"
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):
            return None
        raise StateError(f"{db}: the state database is damaged ({exc})") from None
    finally:
        con.close()
    if row is None:
        return None
    try:
        return int(loads(bytes(row[0]))["version"])
    except (ValueError, KeyError, TypeError):
        raise StateError(f"{db}: the schema record is unreadable") from None


def _prepare_dir(path: str, create: bool) -> bool:
    """Check (or create, owner-only) the state dir; return whether it already held a journal."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not create:
            raise StateError(f"{path}: no state dir here (nothing has run yet)") from None
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise StateError(f"{path}: the state path is not a directory")
    if st.st_uid != os.getuid():
        raise StateError(f"{path}: owned by another user (uid {st.st_uid}); refusing to use it")
    if st.st_mode & 0o022:
        raise StateError(
            f"{path}: group or world can write to the state dir; run `chmod 700 {path}`"
        )
    return os.path.exists(os.path.join(path, _DB))


def open_store(path: str, *, create: bool = True) -> DiskcacheStore:
    """Open (creating if asked) the state dir at `path`."""
    return DiskcacheStore(path, create=create)


class DiskcacheStore:
    """`Store` on diskcache: see the module docstring for the key layout."""

    def __init__(self, path: str, *, create: bool = True) -> None:
        """Open the state dir, refusing one of an unknown schema version untouched."""
        self.path = os.path.abspath(path)
        existed = _prepare_dir(self.path, create)
        db = os.path.join(self.path, _DB)
        if existed:
            version = _peek_version(db)
            if version is None:
                raise StateError(f"{self.path}: not a durable state dir (no schema record)")
            if version != SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"{self.path}: state dir has schema version {version}; this durable "
                    f"reads version {SCHEMA_VERSION}. Use a matching durable or another --state-dir"
                )
        else:
            # SQLite gives the -wal and -shm files the database's mode: make it owner-only first
            fd = os.open(db, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        try:
            self._cache = diskcache.Cache(self.path, disk=JSONDisk, timeout=30, **_SETTINGS)
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{db}: the state database is damaged ({exc})") from None
        if not existed:
            with self._cache.transact(retry=True):
                if self._cache.get("meta/schema") is None:
                    self._cache.set("meta/schema", {"version": SCHEMA_VERSION})
        self._lock_fd: int | None = None
        self._wake_fd: int | None = None
        self._group = GroupCommit(lambda: self._cache._con)

    # -- plumbing ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release connections, the runner lock and the wake pipe."""
        self._cache.close()
        for fd in (self._lock_fd, self._wake_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._lock_fd = self._wake_fd = None

    def _write(self, op: Callable[[Any], Any]) -> Any:
        """Run one write, group-committed with other threads' unless a transaction is open."""
        if self._cache._txn_id == threading.get_ident():
            return op(self._cache._sql)  # inside batch(): part of that transaction
        return self._group.run(op)

    def batch(self) -> contextlib.AbstractContextManager[Any]:
        """A transaction: everything written inside commits together (nesting is fine)."""
        return self._cache.transact(retry=True)

    def _scan(
        self,
        prefix: str,
        *,
        reverse: bool = False,
        limit: int | None = None,
        tag: str | None = None,
        start_after: str | None = None,
    ) -> Iterator[tuple[str, Any]]:
        """Stream `(key, value)` for keys starting with `prefix`, in key order, in batches."""
        lo, hi = prefix, _after(prefix)
        remaining = limit
        fetch = self._cache.disk.fetch
        while remaining is None or remaining > 0:
            batch = 256 if remaining is None else min(256, remaining)
            where = "key >= ? AND key < ? AND raw = 1"
            args: list[Any] = [lo, hi]
            if start_after is not None:
                where += " AND key < ?" if reverse else " AND key > ?"
                args.append(start_after)
            if tag is not None:
                where += " AND tag = ?"
                args.append(tag)
            order = "DESC" if reverse else "ASC"
            rows = self._cache._sql(  # diskcache has no range read; its key index serves one
                f"SELECT key, mode, filename, value FROM Cache WHERE {where} "
                f"ORDER BY key {order} LIMIT ?",
                (*args, batch),
            ).fetchall()
            for key, mode, filename, value in rows:
                yield key, fetch(mode, filename, value, False)
            if len(rows) < batch:
                return
            start_after = rows[-1][0]
            if remaining is not None:
                remaining -= len(rows)

    def _count(self, prefix: str, tag: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM Cache WHERE key >= ? AND key < ? AND raw = 1"
        args: list[Any] = [prefix, _after(prefix)]
        if tag is not None:
            sql += " AND tag = ?"
            args.append(tag)
        return self._cache._sql(sql, args).fetchone()[0]

    # -- events -----------------------------------------------------------------------------
    def put_event(self, event: dict[str, Any], *, queue: bool = True) -> bool:
        """Record (and queue) an event; False when an event with that id exists already."""
        cache = self._cache
        with cache.transact(retry=True):
            if cache.get(f"ev/{event['id']}") is not None:
                return False
            cache.set(f"ev/{event['id']}", event)
            if queue:
                cache.set(f"q/{event['ts']:013d}/{event['id']}", event["id"])
        return True

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """One event by id."""
        return self._cache.get(f"ev/{event_id}")

    def queued_count(self) -> int:
        """How many events wait in the queue."""
        return self._count("q/")

    def claim_events(
        self, plan: Callable[[dict[str, Any]], list[RunRecord]], limit: int = 256
    ) -> list[RunRecord]:
        """Dequeue events and create the runs `plan` makes for each, in one transaction."""
        cache = self._cache
        created: list[RunRecord] = []
        with cache.transact(retry=True):
            for key, event_id in list(self._scan("q/", limit=limit)):
                event = cache.get(f"ev/{event_id}")
                if event is not None:
                    for run in plan(event):
                        self._put_run(run, new=True)
                        created.append(run)
                cache.delete(key)
        return created

    # -- runs -------------------------------------------------------------------------------
    def _put_run(self, run: RunRecord, *, new: bool = False) -> None:
        self._cache.set(f"run/{run.id}", run.to_dict(), tag=run.status)
        if new:
            self._cache.set(f"fn/{run.function}/{run.id}", 0)

    def create_runs(self, runs: Iterable[RunRecord], steps: Iterable[StepRecord] = ()) -> None:
        """Create runs (and pre-journaled steps) atomically."""
        with self._cache.transact(retry=True):
            for run in runs:
                self._put_run(run, new=True)
            for step in steps:
                self._put_step(step)

    def get_run(self, run_id: str) -> RunRecord | None:
        """One run by id."""
        raw = self._cache.get(f"run/{run_id}")
        return None if raw is None else RunRecord.from_dict(raw)

    def resolve_run_id(self, prefix: str) -> str | None:
        """The run id that `prefix` uniquely starts (case-insensitive), if any."""
        prefix = prefix.strip().upper()
        if not prefix or "/" in prefix:
            return None
        keys = [k for k, _ in self._scan(f"run/{prefix}", limit=2)]
        return keys[0][4:] if len(keys) == 1 else None

    def save_run(self, run: RunRecord, *, guard: bool = True) -> bool:
        """Write a run; with `guard`, a finished run on disk is never overwritten (False)."""
        cache = self._cache
        if guard:
            size, mode, filename, value = cache.disk.store(run.to_dict(), False, key=run.id)
            if filename is None:
                # the hot path: one guarded UPDATE, its own transaction; the status lives in the
                # tag column, so SQLite checks "not finished" without decoding the record
                args = (value, run.status, size, mode, time.time(), f"run/{run.id}")
                updated = self._write(
                    lambda sql: (
                        sql(
                            "UPDATE Cache SET value = ?, tag = ?, size = ?, mode = ?,"
                            " store_time = ? WHERE key = ? AND raw = 1 AND filename IS NULL"
                            " AND tag NOT IN ('completed', 'failed', 'cancelled')",
                            args,
                        ).rowcount
                    )
                )
                if updated == 1:
                    return True
            else:
                cache.disk.remove(filename)
        with cache.transact(retry=True):
            if guard:
                current = cache.get(f"run/{run.id}")
                if current is not None and current["status"] in TERMINAL_RUN_STATUSES:
                    return False
            self._put_run(run)
        return True

    def list_runs(
        self,
        *,
        function: str | None = None,
        status: str | Iterable[str] | None = None,
        limit: int | None = None,
        before: str | None = None,
    ) -> Iterator[RunRecord]:
        """Runs newest first, filtered, streamed (never all loaded at once)."""
        statuses = {status} if isinstance(status, str) else set(status) if status else None
        single = next(iter(statuses)) if statuses and len(statuses) == 1 else None
        count = 0
        if function is None:
            start = f"run/{before}" if before else None
            for _, raw in self._scan("run/", reverse=True, tag=single, start_after=start):
                if statuses and raw["status"] not in statuses:
                    continue
                yield RunRecord.from_dict(raw)
                count += 1
                if limit is not None and count >= limit:
                    return
            return
        prefix = f"fn/{function}/"
        start = f"{prefix}{before}" if before else None
        for key, _ in self._scan(prefix, reverse=True, start_after=start):
            raw = self._cache.get(f"run/{key[len(prefix) :]}")
            if raw is None or (statuses and raw["status"] not in statuses):
                continue
            yield RunRecord.from_dict(raw)
            count += 1
            if limit is not None and count >= limit:
                return

    def count_runs(self, function: str | None = None) -> int:
        """Number of runs (of one function)."""
        return self._count("run/") if function is None else self._count(f"fn/{function}/")

    # -- steps ------------------------------------------------------------------------------
    def _put_step(self, step: StepRecord) -> None:
        self._cache.set(f"st/{step.run_id}/{step.seq:06d}", step.to_store())
        step.stored = True

    def _put_step_alone(self, step: StepRecord) -> None:
        """The hot path: one autocommitted statement per step instead of diskcache's four.

        `Cache.set` runs BEGIN IMMEDIATE, a SELECT, an INSERT or UPDATE, and COMMIT; a single
        INSERT OR REPLACE is its own transaction and costs about half. Only the runner writes
        steps, so reading the old row's value file first can't race.
        """
        key = f"st/{step.run_id}/{step.seq:06d}"
        cache = self._cache
        size, mode, filename, value = cache.disk.store(step.to_store(), False, key=key)
        old = None
        if step.stored:  # a row exists: it may point at a value file to remove after
            old = cache._sql(
                "SELECT filename FROM Cache WHERE key = ? AND raw = 1", (key,)
            ).fetchone()
        now = time.time()
        args = (key, now, now, size, mode, filename, value)
        try:
            self._write(
                lambda sql: sql(
                    "INSERT OR REPLACE INTO Cache(key, raw, store_time, expire_time, access_time,"
                    " access_count, tag, size, mode, filename, value)"
                    " VALUES (?, 1, ?, NULL, ?, 0, NULL, ?, ?, ?, ?)",
                    args,
                )
            )
        except BaseException:
            if filename:
                cache.disk.remove(filename)
            raise
        if old and old[0]:
            cache.disk.remove(old[0])
        step.stored = True

    def load_steps(self, run_id: str) -> list[StepRecord]:
        """A run's journal in execution order (one read)."""
        return [StepRecord.from_store(raw) for _, raw in self._scan(f"st/{run_id}/")]

    def save_step(
        self, step: StepRecord, *, run: RunRecord | None = None, consume: str | None = None
    ) -> None:
        """Commit a step (and optionally its run, and one use of an injected failure) at once."""
        if run is None and consume is None:
            self._put_step_alone(step)
            return
        cache = self._cache
        with cache.transact(retry=True):
            self._put_step(step)
            if run is not None:
                self._put_run(run)
            if consume is not None:
                self._consume_failure(consume)

    # -- injected failures and flags --------------------------------------------------------
    def add_failure(self, key: str, times: int, message: str) -> None:
        """Fail the next `times` attempts (-1: every attempt) matching `key`."""
        with self._cache.transact(retry=True):
            if times == 0:
                self._cache.delete(f"fail/{key}")
            else:
                self._cache.set(f"fail/{key}", {"times": times, "message": message})

    def _consume_failure(self, key: str) -> None:
        entry = self._cache.get(f"fail/{key}")
        if entry is None or entry["times"] < 0:
            return
        if entry["times"] <= 1:
            self._cache.delete(f"fail/{key}")
        else:
            entry["times"] -= 1
            self._cache.set(f"fail/{key}", entry)

    def failures(self) -> dict[str, dict[str, Any]]:
        """All pending injected failures by key."""
        return {key[5:]: value for key, value in self._scan("fail/")}

    def set_flag(self, key: str, value: Any) -> None:
        """Set (or, with None, clear) a small flag."""
        if value is None:
            self._cache.delete(f"flag/{key}", retry=True)
        else:
            self._cache.set(f"flag/{key}", value, retry=True)

    def flags(self, prefix: str) -> dict[str, Any]:
        """Flags whose key starts with `prefix`."""
        return {key[5:]: value for key, value in self._scan(f"flag/{prefix}")}

    # -- runner coordination ----------------------------------------------------------------
    def lock_runner(self) -> None:
        """Become the only runner here; the OS drops the lock when the holder dies."""
        path = os.path.join(self.path, _LOCK)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            os.close(fd)
            pid = int(holder) if holder.isdigit() else None
            who = f"process {pid}" if pid else "another process"
            raise StateLockedError(
                f"{self.path}: {who} is already running `durable dev` on this state dir", pid
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def _wake_path(self) -> str:
        return os.path.join(self.path, _WAKE)

    def notify(self) -> None:
        """Poke a live runner through the wake FIFO; silently nothing when none listens."""
        try:
            fd = os.open(self._wake_path(), os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return  # no FIFO or no reader: the runner reads the queue when it starts
        try:
            os.write(fd, b"!")
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EPIPE):
                raise
        finally:
            os.close(fd)

    def wake_fd(self) -> int | None:
        """Open the wake FIFO for reading (the runner); None where FIFOs aren't supported."""
        if self._wake_fd is not None:
            return self._wake_fd
        path = self._wake_path()
        try:
            if not os.path.exists(path):
                os.mkfifo(path, 0o600)
            # O_RDWR keeps a writer open ourselves, so the FIFO never reports EOF when idle
            self._wake_fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        except (OSError, AttributeError):
            return None
        return self._wake_fd

    def drain_wake(self) -> None:
        """Consume pending notifications."""
        if self._wake_fd is None:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._wake_fd, 4096):
                pass
