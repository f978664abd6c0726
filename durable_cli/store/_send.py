"""Queue one event with sqlite3 alone, in the rows the store writes: `durable send`'s fast path.

diskcache, the records' dataclasses and `typing` cost a sending process more than everything
else it does; this module imports none of them. It does only the everyday case, an existing
journal and an event small enough to live in its row, with the same checks the store makes
before writing (`_files`). Anything else, and any SQLite error, is left to the full store,
which creates, retries and explains: `put_event` returns None for "not done here", having
committed nothing.

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
    SCHEMA_VERSION,
    WAL_AUTOCHECKPOINT,
    check_database,
    notify,
    peek_version,
    prepare_dir,
)
from ._group import upsert_rows
from ._json import dumps, loads

__all__ = ["event_key", "put_event", "queue_key"]

_MODE_RAW = 1  # diskcache's mode for a value held in the row itself
_INLINE_LIMIT = 2**16  # the store's disk_min_file_size: larger values live in their own files
_GET = "SELECT mode, value FROM Cache WHERE key = ? AND raw = 1"


def event_key(event_id: str) -> str:
    """Where an event lives."""
    return f"ev/{event_id}"


def queue_key(event: dict[str, object]) -> str:
    """Where a queued event's place in the queue lives (time-ordered)."""
    return f"q/{event['ts']:013d}/{event['id']}"


def put_event(path: str, event: dict[str, object]) -> bool | None:
    """Record and queue `event`, then poke the runner: True; False when its id exists already;
    None when the full store must do it (nothing was written)."""
    path = os.path.abspath(path)
    if not os.path.exists(os.path.join(path, DB)):
        return None  # a new state dir: the store creates it
    prepare_dir(path, create=False)  # owner, mode, contents: StateError as the store says
    check_database(path)
    value = dumps(event).encode("utf-8")
    if len(value) >= _INLINE_LIMIT or peek_version(path) != SCHEMA_VERSION:
        return None
    try:
        con = sqlite3.connect(os.path.join(path, DB), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        added = _insert(con, event, value)
    except sqlite3.Error:
        return None  # rolled back: the store retries a busy journal and names any fault
    finally:
        con.close()
    if added:
        notify(path)
    return added


def _insert(con: sqlite3.Connection, event: dict[str, object], value: bytes) -> bool:
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
        upsert_rows(con, [(key, None, value), (queue_key(event), None, queued)])
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return True
