"""Opening a state dir: every check before the first write, atomic creation, no settings churn.

- A state dir is checked (type, owner, mode, what it holds, the database header, the WAL) with
  plain reads before SQLite opens it for writing: a refused dir is left byte for byte as it was.
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
import stat
import struct
import threading
import time
from typing import Any

import diskcache

from ..errors import InputError, SchemaVersionError, StateError
from ._codec import JSONDisk, loads
from ._guard import translate

__all__ = [
    "DB",
    "DURABILITY",
    "LOCK",
    "SCHEMA_VERSION",
    "WAKE",
    "JournalCache",
    "check_database",
    "create_journal",
    "file_problem",
    "open_journal",
    "peek_version",
    "prepare_dir",
    "raw_reads_safe",
]

SCHEMA_VERSION = 1
DB = "cache.db"
LOCK = "runner.lock"
WAKE = "wake"
INIT_PREFIX = ".init-"
BUSY_TIMEOUT_S = 10  # SQLite's own busy wait per statement; the store retries on top of it
# SQLite `synchronous` level per durability: NORMAL survives a process crash (the default),
# FULL fsyncs the WAL at every commit and survives a power cut too
DURABILITY = {"normal": 1, "full": 2}
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
_SQLITE_MAGIC = b"SQLite format 3\x00"
_DURABILITY_KEY = "meta/durability"
_SPARE = {LOCK, WAKE}  # what a state dir may hold besides the journal's own files


def prepare_dir(path: str, create: bool) -> bool:
    """Check (or create, owner-only) the state dir; return whether it holds a journal already."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not create:
            raise StateError(f"{path}: no state dir here (nothing has run yet)") from None
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
        return os.path.exists(os.path.join(path, DB))  # someone else may have just made one
    except OSError as exc:
        raise StateError(f"{path}: can't use the state dir ({exc.strerror})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise StateError(f"{path}: the state path is not a directory")
    if st.st_uid != os.getuid():
        raise StateError(f"{path}: owned by another user (uid {st.st_uid}); refusing to use it")
    if st.st_mode & 0o022:
        raise StateError(
            f"{path}: group or world can write to the state dir; run `chmod 700 {path}`"
        )
    if os.path.exists(os.path.join(path, DB)):
        return True
    try:
        names = os.listdir(path)
    except OSError as exc:
        raise StateError(f"{path}: can't read the state dir ({exc.strerror})") from None
    if DB in names:
        return True  # created by another process since the check above
    other = sorted(n for n in names if n not in _SPARE and not n.startswith(INIT_PREFIX))
    if other:
        # a journal that was deleted (or a folder that never was a state dir): starting a
        # fresh journal here would silently forget what the other files belong to
        shown = ", ".join(other[:3]) + (", …" if len(other) > 3 else "")
        raise StateError(
            f"{path}: holds files ({shown}) but no journal ({DB}); refusing to start a new"
            " journal over them (use an empty folder, or run `durable doctor`)"
        )
    if not create:
        raise StateError(f"{path}: no journal here (nothing has run yet)")
    return False


def check_database(path: str) -> None:
    """Cheap checks on the database file and its WAL before SQLite touches them."""
    db = os.path.join(path, DB)
    for attempt in range(3):
        problem = file_problem(db)
        if problem is None:
            return
        # another process may be mid-checkpoint (the header written before the file grows,
        # the WAL deleted a moment before the -shm): a real fault is still there on a re-look
        time.sleep(0.05 * (attempt + 1))
    raise StateError(f"{db}: {problem}; run `durable doctor {path}`")


def file_problem(db: str) -> str | None:
    """What is wrong with the database file and its WAL, judged from their bytes; None: fine."""
    try:
        with open(db, "rb") as fh:
            header = fh.read(100)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        return f"can't read the state database ({exc.strerror})"
    if size == 0:
        return "the state database is empty (0 bytes)"
    if len(header) < 100 or header[:16] != _SQLITE_MAGIC:
        return "not an SQLite database (garbled or overwritten?)"
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "the state database header is damaged (bad page size)"
    changes, pages, valid_for = (struct.unpack(">I", header[o : o + 4])[0] for o in (24, 28, 92))
    if size % page_size:
        return f"the state database is truncated ({size} bytes, not whole {page_size}-byte pages)"
    if pages and changes == valid_for and size < pages * page_size:
        return f"the state database is truncated ({size} bytes; its header says {pages} pages)"
    lost = wal_frames_lost(db)
    if lost:
        return (
            f"{DB}-wal is missing but {DB}-shm records {lost} WAL frame(s) not yet in {DB}:"
            " the latest commits would be lost"
        )
    return None


def wal_frames_lost(db: str) -> int:
    """WAL frames the shared-memory index knows of when the WAL file itself is gone."""
    if os.path.exists(db + "-wal"):
        return 0
    try:
        with open(db + "-shm", "rb") as fh:
            head = fh.read(136)
    except OSError:
        return 0  # no index either: a clean close, or nothing to lose
    if len(head) < 100:
        return 0
    # two copies of the WAL index header (48 bytes each, native byte order), then the
    # checkpoint info whose first field says how many frames were copied into the database
    first, second = head[:48], head[48:96]
    if first != second or not first[12]:
        return 0  # torn or never initialised: SQLite rebuilds it from the WAL, which is empty
    (max_frame,) = struct.unpack("=I", first[16:20])
    (backfilled,) = struct.unpack("=I", head[96:100])
    return max(0, max_frame - backfilled)


def peek_version(path: str) -> int | None:
    """Read the schema version without writing anything to the journal."""
    db = os.path.join(path, DB)
    for attempt in range(4):
        # a read-only connection never folds a WAL left by a killed runner into the file; with
        # no WAL, a read-write one only reads here and deletes the -wal/-shm it made at close
        # (a read-only or immutable one would leave them, or race other processes' writes)
        wal = os.path.exists(db + "-wal")
        try:
            return _read_version(db, "mode=ro" if wal else "mode=rw")
        except sqlite3.DatabaseError as exc:
            if "no such table" in str(exc):
                return None
            if attempt == 3:
                raise translate(exc, path) from None
            # the WAL may have come or gone (another process's last close) since the look
            time.sleep(0.02 * (attempt + 1))
    return None  # pragma: no cover - the loop returns or raises


def _read_version(db: str, flags: str) -> int | None:
    con = sqlite3.connect(f"file:{db}?{flags}", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        con.execute("PRAGMA query_only = 1")
        row = con.execute(
            "SELECT value FROM Cache WHERE key = 'meta/schema' AND raw = 1"
        ).fetchone()
    finally:
        con.close()
    if row is None:
        return None
    try:
        return int(loads(bytes(row[0]))["version"])
    except (ValueError, KeyError, TypeError):
        raise StateError(f"{db}: the schema record is unreadable") from None


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


# Closing any descriptor of a file drops every POSIX lock this process holds on it, SQLite's
# included: once a journal is attached here, its files are never opened by hand again (the
# checks ran on the first open; connections in other threads may outlive a store's close)
_ATTACHED: set[tuple[int, int]] = set()
_OPENING = threading.Lock()


def raw_reads_safe(path: str) -> bool:
    """Whether this process may open and close the journal's files itself (none attached)."""
    try:
        st = os.stat(os.path.join(path, DB))
    except OSError:
        return True
    return (st.st_dev, st.st_ino) not in _ATTACHED


def open_journal(path: str, *, create: bool, durability: str | None) -> JournalCache:
    """Check, create if needed and attach the journal in the state dir at `path`."""
    if durability is not None and durability not in DURABILITY:
        raise InputError(f"durability {durability!r} is not one of {', '.join(sorted(DURABILITY))}")
    with _OPENING:
        if prepare_dir(path, create):
            if raw_reads_safe(path):
                check_database(path)
            version = peek_version(path)
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
        st = os.stat(os.path.join(path, DB))
        _ATTACHED.add((st.st_dev, st.st_ino))
    return cache


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
            "SELECT mode, value FROM Cache WHERE key = ? AND raw = 1", (_DURABILITY_KEY,)
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
                (_DURABILITY_KEY, now, now, size, mode, value),
            )
        self.durability = wanted or recorded
        self.synchronous = DURABILITY[self.durability]
        self._disk.fsync = self.durability == "full"
        sql(f"PRAGMA synchronous = {self.synchronous}")  # this thread's connection is open
        return self.durability

    @property
    def _con(self) -> sqlite3.Connection:
        local = self._local
        fresh = getattr(local, "con", None) is None or getattr(local, "pid", None) != os.getpid()
        con: sqlite3.Connection = diskcache.Cache._con.fget(self)  # type: ignore[attr-defined]
        if fresh and self.synchronous != SETTINGS["sqlite_synchronous"]:
            # per connection, not in diskcache's Settings table: another process opening the
            # store with the default must not change this one's level (nor the reverse)
            con.execute(f"PRAGMA synchronous = {int(self.synchronous)}")
        return con

    def close(self) -> None:
        """Close this thread's connection."""
        with contextlib.suppress(sqlite3.Error):
            super().close()
