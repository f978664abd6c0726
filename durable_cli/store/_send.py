"""Queue one event with sqlite3 alone, in the rows the store writes: `durable send`'s fast path.

diskcache, the records' dataclasses and `typing` cost a sending process more than everything
else it does; this module imports none of them. It does only the everyday case, an existing
journal and an event small enough to live in its row, with the same checks the store makes
before writing (`_files`: the files' bytes, then SQLite's page check on a read-only
connection). A journal found damaged, before or while writing, is refused (StateError) with
nothing written. Anything else, and any other SQLite error, is left to the full store, which
creates, retries and explains: `put_event` returns None for "not done here", having committed
nothing.

A row is what diskcache's `Cache` holds for a string key and an inline bytes value: `raw = 1`,
mode 1 (raw), size 0, no file; the value is the JSON text, as the store's `JSONDisk` writes it,
written by the statement the group commit uses (`upsert_rows`).
"""

from __future__ import annotations

import os
import sqlite3

from ._files import (
    BUSY_TIMEOUT_S,
    DB,
    DURABILITY,
    DURABILITY_KEY,
    OPENING,
    SCHEMA_VERSION,
    WAL_AUTOCHECKPOINT,
    check_database,
    is_damage,
    mark_attached,
    notify,
    peek_version,
    prepare_dir,
    raw_reads_safe,
)
from ._json import dumps, loads
from ._upsert import upsert_rows

__all__ = ["NAMES_INDEXED", "event_key", "name_key", "name_prefix", "put_event", "queue_key"]

_MODE_RAW = 1  # diskcache's mode for a value held in the row itself
_INLINE_LIMIT = 2**16  # the store's disk_min_file_size: larger values live in their own files
_GET = "SELECT mode, value FROM Cache WHERE key = ? AND raw = 1"


def event_key(event_id: str) -> str:
    """Where an event lives."""
    return f"ev/{event_id}"


def queue_key(event: dict[str, object]) -> str:
    """Where a queued event's place in the queue lives (time-ordered)."""
    return f"q/{event['ts']:013d}/{event['id']}"


# present once every event of the journal has its `name_key` row (a journal made before the
# index has its events indexed the first time one is looked up by name)
NAMES_INDEXED = "meta/event-names"


def name_prefix(name: str) -> str:
    """The start of every `name_key` of the events named `name`: the name's length leads, so
    no name's range holds another's ("a" and "a/b" are both names)."""
    return f"en/{len(name)}:{name}/"


def name_key(event: dict[str, object]) -> str:
    """Where an event's place among the events of its name lives (time-ordered)."""
    return f"{name_prefix(str(event['name']))}{event['ts']:013d}/{event['id']}"


def put_event(path: str, event: dict[str, object]) -> bool | None:
    """Record and queue `event`, then poke the runner: True; False when its id exists already;
    None when the full store must do it (nothing was written)."""
    path = os.path.abspath(path)
    if not os.path.exists(os.path.join(path, DB)):
        return None  # a new state dir: the store creates it
    prepare_dir(path, create=False)  # owner, mode, contents: StateError as the store says
    value = dumps(event).encode("utf-8")
    if len(value) >= _INLINE_LIMIT:
        return None
    with OPENING:  # once per process, as the store checks it: threads may be sending too
        first = raw_reads_safe(path)
        if first:
            check_database(path)
        version = peek_version(path, check_pages=first)
        if first:
            mark_attached(path)
    if version != SCHEMA_VERSION:
        return None
    db = os.path.join(path, DB)
    wal_before = os.path.exists(db + "-wal")  # before our connection makes one
    try:
        con = sqlite3.connect(db, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        added = _insert(con, event, value)
    except sqlite3.Error as exc:
        if is_damage(exc):
            _close_untouched(con, db, wal_before)
            from ._guard import translate  # imports diskcache: only on failure

            raise translate(exc, path) from None
        con.close()
        return None  # rolled back: the store retries a busy journal and names any fault
    except BaseException:
        con.close()
        raise
    con.close()
    if added:
        notify(path)
    return added


def _close_untouched(con: sqlite3.Connection, db: str, wal_before: bool) -> None:
    """Close `con` after a refused write without SQLite folding a WAL into the damaged file.

    The last connection to close copies the WAL into the database and deletes it: with a WAL
    that was there before us (a runner killed before it could), a read-only connection opened
    meanwhile keeps ours from being the last, and being read-only it folds nothing itself. A
    WAL our connection made is empty: its close copies nothing and deletes the files it made.
    """
    if not wal_before:
        con.close()
        return
    holder = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    # not contextlib.suppress: importing contextlib costs `durable send` more than this
    try:  # noqa: SIM105
        holder.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error:
        pass  # the page check read the schema a moment ago: rare, and it holds the WAL anyway
    con.close()
    holder.close()


def _insert(con: sqlite3.Connection, event: dict[str, object], value: bytes) -> bool:
    # SQLite checks each page it loads; with this, also each cell's size against the page's
    con.execute("PRAGMA cell_size_check = ON")
    row = con.execute(_GET, (DURABILITY_KEY,)).fetchone()
    durability = loads(bytes(row[1])) if row and row[0] == _MODE_RAW else "normal"
    # per connection, as the store sets it: commit as durably as the runner was told to
    con.execute(f"PRAGMA synchronous = {DURABILITY.get(durability, 1)}")
    con.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
    key = event_key(str(event["id"]))
    con.execute("BEGIN IMMEDIATE")
    try:
        if con.execute(_GET, (key,)).fetchone() is not None:
            con.execute("ROLLBACK")
            return False
        queued = dumps(event["id"]).encode("utf-8")
        index = [(queue_key(event), None, queued), (name_key(event), None, b"0")]
        upsert_rows(con, [(key, None, value), *index])
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return True
