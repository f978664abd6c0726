"""Read-only inspection of a state dir, for `durable doctor`: what is there and what is wrong.

Nothing here writes: SQLite is opened read-only (immutable when no WAL exists, so not even its
-wal/-shm files appear), and files are only read. Each finding names the file it is about and,
where there is one, what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sqlite3
import stat
from collections import Counter
from dataclasses import dataclass
from typing import Any

from diskcache.core import MODE_PICKLE

from ._failures import PendingFailure
from ._files import DB, INIT_PREFIX, LOCK, SCHEMA_VERSION, WAKE, file_problem
from ._open import raw_reads_safe
from ._runner import runner_pid

__all__ = ["Finding", "count_statuses", "inspect_state"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the doctor found: `level` is ok, info, warning or error."""

    level: str
    code: str
    message: str
    path: str | None = None
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (for `durable doctor --json`)."""
        return {
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "hint": self.hint,
        }


def inspect_state(path: str) -> tuple[list[Finding], sqlite3.Connection | None]:
    """Check the state dir at `path`; also return a read-only connection when one could open."""
    path = os.path.abspath(path)
    found: list[Finding] = []
    if not _check_dir(path, found):
        return found, None
    db = os.path.join(path, DB)
    if not os.path.exists(db):
        return found, None
    if raw_reads_safe(path):
        problem = file_problem(db)
        if problem is not None:
            hint = _RESTORE
            if "-wal is missing" in problem:
                hint = (
                    f"put {DB}-wal back if you have it; to accept losing those commits,"
                    f" delete {DB}-shm"
                )
            found.append(Finding("error", "database-file", problem, db, hint))
            return found, None
        _check_wal(db, found)
    con = _connect(db, found)
    if con is None:
        return found, None
    if not _check_schema(con, db, found) or not _check_integrity(con, db, found):
        con.close()
        return found, None
    _check_rows(con, path, found)
    _check_failures(con, path, found)
    _check_runner(path, found)
    return found, con


_RESTORE = "restore the state dir from a backup, or move it aside and start afresh"


def _check_dir(path: str, found: list[Finding]) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        found.append(Finding("error", "no-state-dir", "no state dir here", path))
        return False
    except OSError as exc:
        found.append(Finding("error", "state-dir", f"can't use it ({exc.strerror})", path))
        return False
    if not stat.S_ISDIR(st.st_mode):
        found.append(Finding("error", "not-a-directory", "the state path is not a directory", path))
        return False
    if st.st_uid != os.getuid():
        found.append(
            Finding(
                "error",
                "owner",
                f"owned by another user (uid {st.st_uid}); durable refuses it",
                path,
                f"run durable as uid {st.st_uid}, or `chown -R {os.getuid()} {path}`",
            )
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        found.append(
            Finding(
                "error",
                "dir-permissions",
                f"group or world can write to it (mode {mode:o}); durable refuses it",
                path,
                f"chmod 700 {path}",
            )
        )
    elif mode & 0o077:
        found.append(
            Finding(
                "warning",
                "dir-permissions",
                f"readable by others (mode {mode:o})",
                path,
                f"chmod 700 {path}",
            )
        )
    names = sorted(os.listdir(path))
    for name in names:
        if name.startswith(INIT_PREFIX):
            found.append(
                Finding(
                    "warning",
                    "creation-leftover",
                    "left by a process that died while creating the journal",
                    os.path.join(path, name),
                    "safe to delete when no durable process is starting",
                )
            )
    if DB in names:
        return True
    other = [n for n in names if n not in (LOCK, WAKE) and not n.startswith(INIT_PREFIX)]
    if other:
        found.append(
            Finding(
                "error",
                "journal-missing",
                f"holds {len(other)} other file(s) but no journal ({DB}): durable will not start"
                " a new journal over them",
                os.path.join(path, DB),
                f"restore {DB}, or point --state-dir at an empty folder",
            )
        )
    else:
        found.append(Finding("info", "empty", "no journal yet (nothing has run)", path))
    return True


def _check_wal(db: str, found: list[Finding]) -> None:
    wal = db + "-wal"
    if os.path.exists(wal) and os.path.getsize(wal) > 32:
        found.append(
            Finding(
                "info",
                "wal",
                f"the write-ahead log holds {os.path.getsize(wal)} bytes not yet folded into"
                f" {DB} (a runner is up, or one was killed): they are applied on the next open",
                wal,
            )
        )


def _connect(db: str, found: list[Finding]) -> sqlite3.Connection | None:
    # with no WAL, `immutable` reads without creating -wal/-shm files; with one, read-only
    # sees what it holds (and never folds it into the file)
    flags = "mode=ro" if os.path.exists(db + "-wal") else "mode=ro&immutable=1"
    try:
        con = sqlite3.connect(f"file:{db}?{flags}", uri=True, timeout=10)
        con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        found.append(Finding("error", "database-open", f"can't open it ({exc})", db, _RESTORE))
        return None
    return con


def _check_schema(con: sqlite3.Connection, db: str, found: list[Finding]) -> bool:
    try:
        row = con.execute(
            "SELECT value FROM Cache WHERE key = 'meta/schema' AND raw = 1"
        ).fetchone()
    except sqlite3.Error as exc:
        found.append(Finding("error", "schema", f"no journal tables ({exc})", db, _RESTORE))
        return False
    if row is None:
        found.append(Finding("error", "schema", "no schema record: not a durable journal", db))
        return False
    try:
        version = int(json.loads(bytes(row[0]))["version"])
    except (ValueError, KeyError, TypeError):
        found.append(Finding("error", "schema", "the schema record is unreadable", db, _RESTORE))
        return False
    if version != SCHEMA_VERSION:
        found.append(
            Finding(
                "error",
                "schema-version",
                f"schema version {version}; this durable reads version {SCHEMA_VERSION}",
                db,
                "use the durable version that wrote it",
            )
        )
        return False
    found.append(Finding("ok", "schema", f"schema version {version}", db))
    row = con.execute(
        "SELECT value FROM Cache WHERE key = 'meta/durability' AND raw = 1"
    ).fetchone()
    level = json.loads(bytes(row[0])) if row else "normal"
    how = "fsync at every commit" if level == "full" else "survives process crashes"
    found.append(Finding("info", "durability", f"durability {level} ({how})", db))
    return True


def _check_integrity(con: sqlite3.Connection, db: str, found: list[Finding]) -> bool:
    try:
        rows = [r[0] for r in con.execute("PRAGMA integrity_check(20)").fetchall()]
    except sqlite3.Error as exc:
        rows = [str(exc)]
    if rows == ["ok"]:
        found.append(Finding("ok", "integrity", "SQLite integrity check passed", db))
        return True
    found.append(
        Finding(
            "error",
            "integrity",
            f"SQLite integrity check failed: {'; '.join(rows[:3])}",
            db,
            _RESTORE,
        )
    )
    return False


def _check_rows(con: sqlite3.Connection, path: str, found: list[Finding]) -> None:
    referenced: set[str] = set()
    missing: list[str] = []
    pickled: list[str] = []
    bad_json: list[str] = []
    for key, mode, filename, value in con.execute(
        "SELECT key, mode, filename, value FROM Cache WHERE raw = 1"
    ):
        if mode == MODE_PICKLE:
            pickled.append(key)
            continue
        if filename:
            referenced.add(filename)
            full = os.path.join(path, filename)
            if not os.path.isfile(full):
                missing.append(f"{key} -> {filename}")
                continue
            continue  # large values are read on demand; the file being there is the check
        try:
            json.loads(bytes(value) if isinstance(value, bytes | memoryview) else value)
        except (ValueError, TypeError):
            bad_json.append(key)
    for code, keys, what in (
        ("value-file-missing", missing, "journal rows whose value file is missing"),
        ("pickled-value", pickled, "pickled values (never loaded: durable stores JSON only)"),
        ("bad-json", bad_json, "values that are not valid JSON"),
    ):
        if keys:
            shown = "; ".join(keys[:3]) + ("; …" if len(keys) > 3 else "")
            found.append(
                Finding(
                    "error",
                    code,
                    f"{len(keys)} {what}: {shown}",
                    path,
                    "reading those records fails (exit 2); " + _RESTORE,
                )
            )
    _check_value_files(path, referenced, found)


def _check_value_files(path: str, referenced: set[str], found: list[Finding]) -> None:
    orphans: list[str] = []
    loose: list[str] = []
    for top in os.listdir(path):
        folder = os.path.join(path, top)
        if len(top) != 2 or not os.path.isdir(folder):
            continue
        if stat.S_IMODE(os.lstat(folder).st_mode) & 0o077:
            loose.append(top)
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                full = os.path.join(root, name)
                if stat.S_IMODE(os.lstat(full).st_mode) & 0o077:
                    loose.append(os.path.relpath(full, path))
            for name in files:
                rel = os.path.relpath(os.path.join(root, name), path)
                if rel not in referenced:
                    orphans.append(rel)
    if orphans:
        found.append(
            Finding(
                "warning",
                "orphan-value-files",
                f"{len(orphans)} value file(s) no journal row refers to (left by an interrupted"
                " write): " + ", ".join(orphans[:3]),
                path,
                "safe to delete while no durable process runs",
            )
        )
    for name in (DB, DB + "-wal", DB + "-shm", LOCK):
        full = os.path.join(path, name)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(os.stat(full).st_mode) & 0o077:
                loose.append(name)
    if loose:
        found.append(
            Finding(
                "warning",
                "file-permissions",
                "readable or writable by others: " + ", ".join(loose[:5]),
                path,
                f"chmod -R go-rwx {path}",
            )
        )


def _check_failures(con: sqlite3.Connection, path: str, found: list[Finding]) -> None:
    """Injected failures left pending: easy to forget, and an every-attempt one never ends."""
    pending: list[PendingFailure] = []
    rows = con.execute(
        "SELECT key, value FROM Cache WHERE key >= 'fail/' AND key < 'fail0' AND raw = 1"
        " ORDER BY key"
    )
    for key, value in rows:
        with contextlib.suppress(ValueError, TypeError, AttributeError):  # bad JSON: _check_rows
            raw = json.loads(bytes(value) if isinstance(value, bytes | memoryview) else value)
            pending.append(PendingFailure.from_store(key.removeprefix("fail/"), raw))
    if not pending:
        return
    shown = "; ".join(f.describe() for f in pending[:3]) + ("; …" if len(pending) > 3 else "")
    state = shlex.quote(path)
    found.append(
        Finding(
            # one that fails every attempt makes every run of its function fail until removed
            "warning" if any(f.every_attempt for f in pending) else "info",
            "injected-failures",
            f"{len(pending)} injected failure(s) pending: {shown}",
            path,
            f"list them: `durable fail --list --state-dir {state}`;"
            f" remove them: `durable fail --clear-all --state-dir {state}`",
        )
    )


def _check_runner(path: str, found: list[Finding]) -> None:
    lock = os.path.join(path, LOCK)
    if not os.path.exists(lock):
        found.append(Finding("info", "runner", "no runner has locked this state dir yet", path))
        return
    pid = runner_pid(path)
    if pid is None:
        found.append(Finding("info", "runner", "no runner is up", lock))
    else:
        found.append(Finding("info", "runner", f"a runner is up (process {pid or '?'})", lock))


def count_statuses(con: sqlite3.Connection) -> tuple[Counter[str], int]:
    """Runs per status, and how many events wait in the queue."""
    statuses = Counter(
        dict(
            con.execute(
                "SELECT tag, COUNT(*) FROM Cache WHERE key >= 'run/' AND key < 'run0'"
                " AND raw = 1 GROUP BY tag"
            ).fetchall()
        )
    )
    (queued,) = con.execute(
        "SELECT COUNT(*) FROM Cache WHERE key >= 'q/' AND key < 'q0' AND raw = 1"
    ).fetchone()
    return statuses, queued
