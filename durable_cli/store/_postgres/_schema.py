"""The `durable` schema: its tables, the functions that count flow budgets, its version row.

Created on first use, in one transaction under an advisory lock (two processes starting on a
new database at once: one creates, the other waits and finds it done); the version is read
before taking the lock, so opening an existing database costs one query. A database of a newer
version than this durable knows is refused (`SchemaVersionError`) and left untouched. Each later
version only adds (an index, a table): a database of an older one is brought up to date the same
way, under the lock, by the version's additions (`_UPGRADES`), and every query works on it
meanwhile, so a store opened with `create=False` reads it as it is.

Values are `json`, not `jsonb`: the same text the SQLite store keeps, read back exactly as it
was written (jsonb reorders an object's keys and reads a float such as 1e20 back as an integer).
Text columns that are ordered or matched by prefix (ids, keys) use the "C" collation: byte order,
as SQLite's, so `id < x` ranges and newest-first listings agree between the two stores.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from ...errors import SchemaVersionError, StateError
from .._records import ACTIVE_RUN_STATUSES, RUN_STATUSES, TIMER_STATUSES

__all__ = ["NAME_NS", "SCHEMA_VERSION", "SLOT_NS", "WINDOW_NS", "ensure_schema", "statuses_sql"]

SCHEMA_VERSION = 2
_CREATE_LOCK = 0x64757261626C65  # pg_advisory_xact_lock key of schema creation ("durable")


def statuses_sql(statuses: Iterable[str]) -> str:
    """Known run statuses as a SQL list, in their usual order (`'queued', 'running'`), to
    inline: a query with the literal list is seen to be covered by a partial index on it."""
    wanted = set(statuses)
    return ", ".join(f"'{s}'" for s in RUN_STATUSES if s in wanted) or "'none'"


# Advisory lock namespaces (the first key of the two-key form): a concurrency key, a flow window,
# a name a transaction reads and writes under (`Database.lock_in_transaction`)
SLOT_NS, WINDOW_NS, NAME_NS = 2, 3, 4

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS durable;
CREATE TABLE durable.meta (key text COLLATE "C" PRIMARY KEY, value json NOT NULL);
CREATE TABLE durable.events (
    id text COLLATE "C" PRIMARY KEY, name text NOT NULL, ts bigint NOT NULL, body json NOT NULL);
CREATE TABLE durable.queue (
    ts bigint NOT NULL, id text COLLATE "C" NOT NULL, PRIMARY KEY (ts, id));
CREATE TABLE durable.runs (
    id text COLLATE "C" PRIMARY KEY,
    function text COLLATE "C" NOT NULL,
    status text NOT NULL,
    owner text COLLATE "C",
    wake_at bigint,
    created_at bigint NOT NULL,
    body json NOT NULL);
CREATE INDEX runs_by_function ON durable.runs (function, id DESC);
-- unfinished runs, newest first: the statuses are listed (not "not finished") so that a query
-- for any of them (`status IN ('queued', 'running')`) is seen to be covered by the index
CREATE INDEX runs_active ON durable.runs (id)
    WHERE status IN ({statuses_sql(ACTIVE_RUN_STATUSES)});
CREATE INDEX runs_due ON durable.runs (wake_at)
    WHERE status IN ({statuses_sql(TIMER_STATUSES)}) AND wake_at IS NOT NULL;
CREATE TABLE durable.steps (
    run_id text COLLATE "C" NOT NULL, seq integer NOT NULL, body json NOT NULL,
    PRIMARY KEY (run_id, seq));
CREATE TABLE durable.failures (
    key text COLLATE "C" PRIMARY KEY, times integer NOT NULL, message text NOT NULL);
CREATE TABLE durable.flags (key text COLLATE "C" PRIMARY KEY, value json NOT NULL);
CREATE TABLE durable.runners (
    id text COLLATE "C" PRIMARY KEY, token text NOT NULL, until timestamptz NOT NULL,
    pid integer, host text);
CREATE TABLE durable.slots (
    key text COLLATE "C" NOT NULL, run_id text COLLATE "C" NOT NULL, runner text COLLATE "C",
    PRIMARY KEY (key, run_id));
CREATE TABLE durable.windows (
    key text COLLATE "C" NOT NULL, at bigint NOT NULL, id text COLLATE "C" NOT NULL,
    PRIMARY KEY (key, at, id));

-- One of `lim` concurrency slots of a key for a run: true when it holds one now. The key's
-- lock serialises its budget alone (SKIP LOCKED would let two runners spend one slot).
CREATE FUNCTION durable.take_slot(k text, run text, runner text, lim integer) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE held integer; mine boolean;
BEGIN
    PERFORM pg_advisory_xact_lock({SLOT_NS}, hashtext(k));
    SELECT count(*), coalesce(bool_or(run_id = run), false) INTO held, mine
        FROM durable.slots WHERE key = k;
    IF mine THEN RETURN true; END IF;
    IF held >= lim THEN RETURN false; END IF;
    INSERT INTO durable.slots (key, run_id, runner) VALUES (k, run, runner);
    RETURN true;
END $$;

-- Count an entry into a sliding window of `period` ms: 0 when it fits (and is recorded), else
-- the epoch ms at which the oldest entry leaves it. Serialised per key, as slots are.
CREATE FUNCTION durable.take_window(k text, entry text, now_ms bigint, period bigint,
                                    lim integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE held integer; oldest bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({WINDOW_NS}, hashtext(k));
    DELETE FROM durable.windows WHERE key = k AND at <= now_ms - period;
    SELECT count(*), min(at) INTO held, oldest
        FROM (SELECT at FROM durable.windows WHERE key = k ORDER BY at, id LIMIT lim) w;
    IF held >= lim THEN RETURN oldest + period; END IF;
    INSERT INTO durable.windows (key, at, id) VALUES (k, now_ms, entry) ON CONFLICT DO NOTHING;
    RETURN 0;
END $$;
"""

# what each version adds to the one before it (version 1 is `_DDL`); additions only
_UPGRADES = {
    # the newest event of a name (`latest_event`) without reading the other names' events
    2: "CREATE INDEX IF NOT EXISTS events_by_name ON durable.events (name, ts DESC, id DESC);",
}

_VERSION = "SELECT value FROM durable.meta WHERE key = 'schema'"
_HAS_META = (
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
    " ON n.oid = c.relnamespace WHERE n.nspname = 'durable' AND c.relname = 'meta')"
)


def _version(con: psycopg.Connection) -> int | None:
    """The schema version recorded, or None when there is no schema yet."""
    # the catalog itself, not to_regclass: its cache may not have heard yet of a schema another
    # session created while this one waited for the lock
    if not con.execute(_HAS_META).fetchone()[0]:
        return None
    row = con.execute(_VERSION).fetchone()
    return None if row is None else int(row[0].get("version", 0))


def _check(version: int, where: str) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{where}: the durable schema has version {version}; this durable reads version"
            f" {SCHEMA_VERSION}. Use a matching durable or another database"
        )
    if version < 1:
        raise StateError(f"{where}: the durable schema has unknown version {version}")


def _first_look(con: psycopg.Connection) -> int | None:
    """`_version` in one query, the usual case (outside a transaction: a missing table is an
    error that costs nothing)."""
    try:
        row = con.execute(_VERSION).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        return None
    return None if row is None else int(row[0].get("version", 0))


def ensure_schema(con: psycopg.Connection, *, create: bool, where: str) -> None:
    """Check (if asked, create or bring up to date) the schema on autocommit connection `con`."""
    version = _first_look(con)
    if version is not None:
        _check(version, where)
        if version == SCHEMA_VERSION or not create:
            return
    elif not create:
        raise StateError(f"{where}: no durable schema in this database (nothing has run yet)")
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
        version = _version(con)  # another process may have created it while we waited
        if version is not None:
            _check(version, where)
        else:
            con.execute(_DDL.encode())  # no parameters: sent as one multi-statement query
        for added in range(version or 1, SCHEMA_VERSION):
            con.execute(_UPGRADES[added + 1].encode())
        if version != SCHEMA_VERSION:
            con.execute(
                "INSERT INTO durable.meta (key, value) VALUES ('schema', %s::json)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (f'{{"version":{SCHEMA_VERSION}}}',),
            )
