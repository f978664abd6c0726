"""`durable doctor --database-url`: the connection, the schema's version, the workers and the
work no live worker will take, read with plain SELECTs on one connection (nothing is created or
changed, not even durable's schema).
"""

from __future__ import annotations

import shlex
from collections import Counter

import psycopg

from .._check import Finding
from .._diagnose import settle
from .._failures import PendingFailure
from .._records import TIMER_STATUSES
from ._connect import connect, describe, mask, reason, settings
from ._schema import SCHEMA_VERSION, statuses_sql

__all__ = ["diagnose_database"]

_SHOWN = 3  # workers or runs named in one finding; the rest are counted
_HAS_SCHEMA = (
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
    " ON n.oid = c.relnamespace WHERE n.nspname = 'durable' AND c.relname = 'meta')"
)
_RUNNERS = (
    "SELECT id, pid, host, until >= now(), floor(extract(epoch FROM now() - until))::bigint"
    " FROM durable.runners ORDER BY until DESC, id"
)
_LIVE = "SELECT x.id FROM durable.runners x WHERE x.until >= now()"
# runs that could go now but whose owner holds no live lease: queued or running ones, and
# timers already due; paused runs wait for a person, not a worker
_TIMERS = statuses_sql(TIMER_STATUSES)
_STRANDED = (
    f"SELECT id FROM durable.runs WHERE (owner IS NULL OR owner NOT IN ({_LIVE}))"
    f" AND (status IN ('queued', 'running') OR (status IN ({_TIMERS}) AND wake_at IS NOT NULL"
    " AND wake_at <= floor(extract(epoch FROM now()) * 1000)))"
    " ORDER BY id"
)


def diagnose_database(url: str) -> list[Finding]:
    """Everything worth knowing about durable's state in the database at `url`."""
    where = describe(url)
    conninfo = settings(url)  # a URL that is no URL: InputError, bad input
    try:
        con = connect(conninfo)
    except psycopg.Error as exc:
        return [
            Finding(
                "error",
                "connection",
                f"can't reach PostgreSQL at {where}: {reason(exc)}",
                None,
                "check the URL, that the server is up, and that it lets this machine in",
            )
        ]
    found: list[Finding] = []
    try:
        _check(con, url, where, found)
    except psycopg.Error as exc:  # lost half-way (a restart): what was found, and that
        found.append(Finding("error", "connection", f"lost {where}: {reason(exc)}"))
    finally:
        con.close()
    return settle(found, where)


def _check(con: psycopg.Connection, url: str, where: str, found: list[Finding]) -> None:
    info = con.info
    version = f"{info.server_version // 10000}.{info.server_version % 10000}"
    found.append(Finding("ok", "connection", f"connected to PostgreSQL {version} at {where}"))
    if not _check_schema(con, where, found):
        return
    live = _check_workers(con, found)
    statuses = Counter(
        dict(con.execute("SELECT status, count(*) FROM durable.runs GROUP BY status").fetchall())
    )
    queued = con.execute("SELECT count(*) FROM durable.queue").fetchone()[0]
    runs = sum(statuses.values())
    by_status = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"
    found.append(
        Finding("info", "contents", f"{runs} run(s): {by_status}; {queued} event(s) queued")
    )
    _check_stranded(con, live, queued, found)
    _check_failures(con, url, found)


def _check_schema(con: psycopg.Connection, where: str, found: list[Finding]) -> bool:
    """The schema's version (True: it is one this durable reads, so look further)."""
    if not con.execute(_HAS_SCHEMA).fetchone()[0]:
        found.append(
            Finding(
                "info",
                "schema",
                "no durable schema in this database yet: the first command or worker run on it"
                " creates it",
                where,
            )
        )
        return False
    row = con.execute("SELECT value FROM durable.meta WHERE key = 'schema'").fetchone()
    version = None if row is None else int(row[0].get("version", 0))
    if version is None or version > SCHEMA_VERSION:
        said = "no version" if version is None else f"version {version}"
        found.append(
            Finding(
                "error",
                "schema",
                f"the durable schema has {said}; this durable reads version {SCHEMA_VERSION}",
                where,
                "use the durable that wrote it (or a newer one), or another database",
            )
        )
        return False
    if version < SCHEMA_VERSION:
        message = (
            f"durable schema version {version}; the next worker or command brings it to"
            f" version {SCHEMA_VERSION} (it only adds)"
        )
        found.append(Finding("info", "schema", message, where))
    else:
        found.append(Finding("ok", "schema", f"durable schema version {version}", where))
    return True


def _check_workers(con: psycopg.Connection, found: list[Finding]) -> int:
    """The workers holding a lease, and the ones whose lease ran out; the live count."""
    rows = con.execute(_RUNNERS).fetchall()
    live = [r for r in rows if r[3]]
    lapsed = [r for r in rows if not r[3]]
    if live:
        named = ", ".join(f"pid {pid} on {host}" for _, pid, host, _, _ in live[:_SHOWN])
        more = f" and {len(live) - _SHOWN} more" if len(live) > _SHOWN else ""
        found.append(Finding("ok", "workers", f"{len(live)} live worker(s): {named}{more}"))
    else:
        found.append(Finding("info", "workers", "no live worker"))
    if lapsed:
        named = ", ".join(
            f"pid {pid} on {host}, {ago} s ago" for _, pid, host, _, ago in lapsed[:_SHOWN]
        )
        more = f" and {len(lapsed) - _SHOWN} more" if len(lapsed) > _SHOWN else ""
        found.append(
            Finding(
                "info",
                "lapsed-workers",
                f"{len(lapsed)} worker(s) whose lease ran out: {named}{more}",
                None,
                "a live worker takes their runs over at its next renewal",
            )
        )
    return len(live)


def _check_stranded(con: psycopg.Connection, live: int, queued: int, found: list[Finding]) -> None:
    """Work that could go now with nobody holding it: stranded unless a worker is live."""
    ids = [row[0] for row in con.execute(_STRANDED).fetchall()]
    if not ids and not queued:
        return
    shown = ", ".join(ids[:_SHOWN]) + (
        f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
    )
    runs = f"{len(ids)} run(s) held by no live worker ({shown})" if ids else "no stranded run"
    if live:
        if ids:
            message = f"{runs}: the live workers take them over within a lease"
            found.append(Finding("info", "orphaned", message))
        return
    found.append(
        Finding(
            "warning",
            "stranded",
            f"{runs} and {queued} queued event(s) wait, and no worker is live to take them",
            None,
            "start `durable worker` on this database (any machine): it resumes them from their"
            " journals (a step that was in flight runs again)",
        )
    )


def _check_failures(con: psycopg.Connection, url: str, found: list[Finding]) -> None:
    """Injected failures left pending (as the state dir's doctor reports them)."""
    rows = con.execute("SELECT key, times, message FROM durable.failures ORDER BY key").fetchall()
    if not rows:
        return
    pending = [PendingFailure.from_store(k, {"times": t, "message": m}) for k, t, m in rows]
    shown = "; ".join(f.describe() for f in pending[:_SHOWN])
    shown += "; …" if len(pending) > _SHOWN else ""
    option = f"--database-url {shlex.quote(mask(url))}"
    found.append(
        Finding(
            "warning" if any(f.every_attempt for f in pending) else "info",
            "injected-failures",
            f"{len(pending)} injected failure(s) pending: {shown}",
            None,
            f"list them: `durable fail --list {option}`;"
            f" remove them: `durable fail --clear-all {option}`",
        )
    )
