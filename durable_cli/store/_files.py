"""The state dir's files, checked with plain reads, and the runner's lock and wake FIFO beside
the journal: no diskcache, so `durable send` stays light.

A state dir is checked (type, owner, mode, what it holds, the database header, the WAL) before
SQLite opens it for writing: a refused dir is left byte for byte as it was.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import stat
import struct
import threading
import time

from ..errors import StateError, StateLockedError
from ._damage import ptrmap_problem, shm_header, wal_problem
from ._json import loads

__all__ = [
    "BUSY_TIMEOUT_S",
    "DB",
    "DURABILITY",
    "DURABILITY_KEY",
    "FULL_CHECK_BYTES",
    "INIT_PREFIX",
    "LOCK",
    "OPENING",
    "SCHEMA_VERSION",
    "WAKE",
    "WAL_AUTOCHECKPOINT",
    "check_database",
    "damaged",
    "doctor_hint",
    "file_problem",
    "is_damage",
    "lock_runner",
    "mark_attached",
    "notify",
    "open_wake",
    "peek_version",
    "prepare_dir",
    "raw_reads_safe",
    "wal_frames_lost",
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
DURABILITY_KEY = "meta/durability"
# WAL pages before the committing connection copies them into the database (SQLite's default is
# 1,000). Each checkpoint syncs both files, and a small WAL copies the same hot pages over and
# over, so a larger mark makes every commit cheaper (the README's Figures compare the two). Every
# connection sets it, or a `durable send` would run the runner's checkpoints for it.
WAL_AUTOCHECKPOINT = 10_000
# `PRAGMA quick_check` reads every page: a journal up to this size is checked whole each time a
# command opens it (quick at this size); a larger one only as far as each command reads it (see
# `_check_pages`). The doctor always checks the whole file
FULL_CHECK_BYTES = 4 * 2**20
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26  # SQLite's result codes for a damaged file
_SPARE = {LOCK, WAKE}  # what a state dir may hold besides the journal's own files


# Closing any descriptor of a file drops every POSIX lock this process holds on it, SQLite's
# included: once this process has connected to a journal, its files are never opened by hand
# again (they were checked before the first connection; connections in other threads, or
# outliving a store's close, may hold locks at any moment)
_ATTACHED: set[tuple[int, int]] = set()
OPENING = threading.Lock()  # held while a journal is checked before this process's first use


def raw_reads_safe(path: str) -> bool:
    """Whether this process may open and close the journal's files itself (none attached)."""
    try:
        st = os.stat(os.path.join(path, DB))
    except OSError:
        return True
    return (st.st_dev, st.st_ino) not in _ATTACHED


def mark_attached(path: str) -> None:
    """Record that this process connects to the journal at `path` from now on."""
    st = os.stat(os.path.join(path, DB))
    _ATTACHED.add((st.st_dev, st.st_ino))


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
            f"{path}: group or world can write to the state dir; run `chmod 700 {_quote(path)}`"
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
            f" journal over them (use an empty folder, or run `durable doctor {_quote(path)}`)"
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
    raise StateError(f"{db}: {problem}; {doctor_hint(path)}")


def doctor_hint(path: str) -> str:
    """The advice that ends a damage message: the doctor command for `path`, ready to paste."""
    return f"run `durable doctor {_quote(path)}`"


def damaged(path: str, detail: str) -> StateError:
    """The one-line error for a journal SQLite finds damaged (`detail`: what it said)."""
    detail = " ".join(detail.replace("*** in database main ***", "").split())
    return StateError(f"{path}: the state database is damaged ({detail}); {doctor_hint(path)}")


def is_damage(exc: BaseException) -> bool:
    """Whether `exc` is SQLite saying the journal's file is damaged (not worth trying again)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    return code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in str(exc)


def _quote(path: str) -> str:
    import shlex  # only an error message needs it

    return shlex.quote(path)


def file_problem(db: str) -> str | None:
    """What is wrong with the database file and its WAL, judged from their bytes; None: fine."""
    try:
        with open(db, "rb") as fh:
            header = fh.read(100)
            size = os.fstat(fh.fileno()).st_size
            problem = _header_problem(header, size)
            if problem is None:
                page_size, pages = _geometry(header, size)
                problem = ptrmap_problem(fh, header, pages, page_size)
    except OSError as exc:
        return f"can't read the state database ({exc.strerror})"
    if problem:
        return problem
    lost = wal_frames_lost(db)
    if lost:
        return (
            f"{DB}-wal is missing but {DB}-shm records {lost} WAL frame(s) not yet in {DB}:"
            " the latest commits would be lost"
        )
    return wal_problem(db, page_size)


def _header_problem(header: bytes, size: int) -> str | None:
    if size == 0:
        return "the state database is empty (0 bytes)"
    if len(header) < 100 or header[:16] != _SQLITE_MAGIC:
        return "not an SQLite database (garbled or overwritten?)"
    page_size, pages = _geometry(header, size)
    if page_size < 512 or page_size & (page_size - 1):
        return "the state database header is damaged (bad page size)"
    if size % page_size:
        return f"the state database is truncated ({size} bytes, not whole {page_size}-byte pages)"
    if size < pages * page_size:
        return f"the state database is truncated ({size} bytes; its header says {pages} pages)"
    return None


def _geometry(header: bytes, size: int) -> tuple[int, int]:
    """Page size and page count from the database header (the count from the file's size when
    the header's is not valid: written by an old SQLite)."""
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    changes, pages, valid_for = (struct.unpack(">I", header[o : o + 4])[0] for o in (24, 28, 92))
    if not pages or changes != valid_for:
        pages = size // max(page_size, 1)
    return page_size, pages


def wal_frames_lost(db: str) -> int:
    """WAL frames the shared-memory index knows of when the WAL file itself is gone."""
    if os.path.exists(db + "-wal"):
        return 0
    head = shm_header(db)
    if head is None:
        return 0  # no index (a clean close), or one never written: nothing to lose
    # the checkpoint info after the header says how many frames were copied into the database
    (max_frame,) = struct.unpack("=I", head[16:20])
    (backfilled,) = struct.unpack("=I", head[96:100])
    return max(0, max_frame - backfilled)


def peek_version(path: str, *, check_pages: bool = False) -> int | None:
    """Read the schema version without writing anything to the journal; with `check_pages`,
    also have SQLite check the journal's pages (StateError when they are damaged)."""
    db = os.path.join(path, DB)
    for attempt in range(4):
        # a read-only connection never folds a WAL left by a killed runner into the file. With
        # no WAL (or an empty one, another reader's) the file holds everything: `immutable`
        # reads it without making -wal/-shm files. A read-write connection deletes those it
        # made when it closes, but not when another process closes at the same moment, and a
        # refused command must leave the state dir as it found it. A checkpoint racing the read
        # (a process that wrote and closed meanwhile) fails it, and the next try reads it again
        flags = "mode=ro" if _wal_has_frames(db) else "mode=ro&immutable=1"
        try:
            return _read_version(db, flags, check_pages)
        except sqlite3.DatabaseError as exc:
            if "no such table" in str(exc):
                return None
            if attempt == 3:
                if isinstance(exc, _PagesDamaged):
                    raise damaged(path, str(exc)) from None
                from ._guard import translate  # imports diskcache: only on failure

                raise translate(exc, path) from None
            # the WAL may have come or gone (another process's last close) since the look
            time.sleep(0.02 * (attempt + 1))
    return None  # pragma: no cover - the loop returns or raises


class _PagesDamaged(sqlite3.DatabaseError):
    """SQLite's page check found damage (its first finding is the message)."""


def _wal_has_frames(db: str) -> bool:
    try:
        return os.path.getsize(db + "-wal") > 0
    except OSError:
        return False


def _read_version(db: str, flags: str, check_pages: bool) -> int | None:
    con = sqlite3.connect(f"file:{db}?{flags}", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        con.execute("PRAGMA query_only = 1")
        row = con.execute(
            "SELECT value FROM Cache WHERE key = 'meta/schema' AND raw = 1"
        ).fetchone()
        if check_pages:
            _check_pages(con, os.path.getsize(db))
    finally:
        con.close()
    if row is None:
        return None
    try:
        return int(loads(bytes(row[0]))["version"])
    except (ValueError, KeyError, TypeError):
        raise StateError(f"{db}: the schema record is unreadable") from None


def _check_pages(con: sqlite3.Connection, size: int) -> None:
    """SQLite's own check of every page (each b-tree, cell and pointer-map entry) when that
    takes a few milliseconds; of a large journal, the schema and settings every command reads
    (SQLite then finds damage in the other pages as a command reads them, and the doctor)."""
    which = "quick_check(1)" if size <= FULL_CHECK_BYTES else "quick_check('Settings')"
    (first,) = con.execute(f"PRAGMA {which}").fetchone()
    if first != "ok":
        raise _PagesDamaged(first)


def notify(path: str) -> None:
    """Poke a live runner through the state dir's wake FIFO; silently nothing when none listens."""
    try:
        fd = os.open(os.path.join(path, WAKE), os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return  # no FIFO or no reader: the runner reads the queue when it starts
    try:
        os.write(fd, b"!")
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EPIPE):
            raise
    finally:
        os.close(fd)


def lock_runner(path: str) -> int:
    """Take the state dir's runner lock (the OS drops it when the holder dies); its descriptor.

    StateLockedError names the process that holds it."""
    fd = os.open(os.path.join(path, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
        os.close(fd)
        pid = int(holder) if holder.isdigit() else None
        who = f"process {pid}" if pid else "another process"
        raise StateLockedError(
            f"{path}: {who} is already running this state dir (one `durable dev` or"
            " `durable worker` at a time)",
            pid,
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def open_wake(path: str) -> int | None:
    """Open (making it if need be) the wake FIFO for reading; None where FIFOs aren't supported."""
    fifo = os.path.join(path, WAKE)
    try:
        if not os.path.exists(fifo):
            os.mkfifo(fifo, 0o600)
        # O_RDWR keeps a writer open ourselves, so the FIFO never reports EOF when idle
        return os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    except (OSError, AttributeError):
        return None
