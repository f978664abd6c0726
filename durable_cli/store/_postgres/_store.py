"""`Store` on PostgreSQL: many runners, on any machines, sharing one database.

The same records and JSON as the embedded store, in the tables of schema `durable` (`_schema`).
Everything a runner writes is fenced by its lease (`_lease`, `_db`); a journal write is one
statement (`_writes`), and writes from many threads at once share one (`.._batch`); the runner is
woken by LISTEN/NOTIFY (`_wake`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg

from .._batch import Batcher
from .._json import dumps
from .._records import RunRecord, StepRecord
from ._connect import describe, mask, settings
from ._db import Database
from ._lease import PgLeases
from ._reads import list_runs, match_run_ids, prefix_range
from ._schema import ensure_schema
from ._wake import CHANNEL, Listener
from ._writes import Writes, run_row, step_row

__all__ = ["PostgresStore"]

_Batch = tuple[list[RunRecord], list[StepRecord]]


class PostgresStore:
    """`Store` on PostgreSQL (psycopg 3)."""

    def __init__(self, url: str, *, create: bool = True, retry_s: float | None = None) -> None:
        """Connect, check (or create) the schema; a database out of reach is a one-line
        StateError. Later, lost connections are retried for `retry_s` s (None: forever)."""
        self.path = mask(url)
        self._conninfo = conninfo = settings(url)
        self._db = Database(conninfo, describe(url), retry_s)
        self._db.first(lambda con: ensure_schema(con, create=create, where=describe(url)))
        self.leases = PgLeases(self._db)
        self._group: Batcher[_Batch, list[bool]] = Batcher(self._write_batches)
        self._listener: Listener | None = None

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        """Whether this thread is inside `batch()`."""
        return self._db.in_transaction

    def close(self) -> None:
        """Close the connections and stop listening."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._db.close()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """A transaction: everything written inside commits together (nesting is fine)."""
        with self._db.transaction():
            yield

    def _keep(self) -> str:
        """Inside a transaction, a read of runs locks them: what it read and then writes can't
        change in between (outside one, each statement stands alone)."""
        return " ORDER BY id FOR UPDATE" if self._db.in_transaction else ""

    def _flag_lock(self, key: str) -> None:
        """Inside a transaction, flags are read and written under a lock on their first path
        segment (`cron`, `wait`, `idem`, …): a cron tick read and moved on by two runners at
        once, or a wait registered while an event is matched against the waits, go one after
        the other, as on the embedded store."""
        self._db.lock_in_transaction("flag/" + key.split("/", 1)[0])

    def _write(self, writes: Writes) -> list[tuple[Any, ...]]:
        return self._db.fenced(writes.ctes, writes.main, writes.args)

    # -- events -----------------------------------------------------------------------------
    def put_event(self, event: dict[str, Any], *, queue: bool = True) -> bool:
        """Record (and queue, waking the runners on commit) an event; False when an event
        with that id exists already."""
        rows = self._db.fenced(
            "ev AS (INSERT INTO durable.events (id, name, ts, body)"
            " SELECT %s, %s, %s, %s::json FROM fence ON CONFLICT (id) DO NOTHING"
            " RETURNING id, ts),"
            " q AS (INSERT INTO durable.queue (ts, id) SELECT ts, id FROM ev WHERE %s),"
            f" woke AS (SELECT pg_notify('{CHANNEL}', '') FROM ev WHERE %s)",
            "SELECT ok, (SELECT count(*) FROM ev), (SELECT count(*) FROM woke) FROM fence",
            [event["id"], event["name"], event["ts"], dumps(event), queue, queue],
        )
        return rows[0][1] > 0

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """One event by id."""
        rows = self._db.query("SELECT body FROM durable.events WHERE id = %s", (event_id,))
        return rows[0][0] if rows else None

    def latest_event(self, name: str) -> dict[str, Any] | None:
        """The newest event named `name` (by time, then id), or None."""
        rows = self._db.query(
            "SELECT body FROM durable.events WHERE name = %s ORDER BY ts DESC, id DESC LIMIT 1",
            (name,),
        )
        return rows[0][0] if rows else None

    def queued_count(self) -> int:
        """How many events wait in the queue."""
        return self._db.query("SELECT count(*) FROM durable.queue")[0][0]

    def has_queued(self) -> bool:
        """Whether any event waits in the queue (cheaper than counting them)."""
        return self._db.query("SELECT EXISTS (SELECT 1 FROM durable.queue)")[0][0]

    def claim_events(
        self,
        plan: Callable[[dict[str, Any]], list[RunRecord]],
        limit: int = 256,
        *,
        reads_runs: bool = True,
    ) -> list[RunRecord]:
        """Dequeue events and create the runs `plan` makes for each, in one transaction.

        Queue rows another runner is claiming are skipped, not waited for. Each event's runs
        are written before the next event is planned, as a plan may read runs;
        `reads_runs=False` promises it doesn't, and the batch's runs go in one statement."""

        def claim(con: psycopg.Connection) -> list[RunRecord]:
            claimed = con.execute(
                "SELECT q.ts, q.id, e.body FROM durable.queue q"
                " LEFT JOIN durable.events e ON e.id = q.id"
                " ORDER BY q.ts, q.id LIMIT %s FOR UPDATE OF q SKIP LOCKED",
                (limit,),
            ).fetchall()
            created: list[RunRecord] = []
            for _, _, event in claimed:
                if event is not None:
                    runs = plan(event)
                    if reads_runs:
                        self._put_runs(runs, [], guard=False)
                    created += runs
            if not reads_runs:
                self._put_runs(created, [], guard=False)
            if claimed:
                marks = ", ".join(["(%s::bigint, %s)"] * len(claimed))
                con.execute(
                    f"DELETE FROM durable.queue WHERE (ts, id) IN (VALUES {marks})",
                    [v for ts, event_id, _ in claimed for v in (ts, event_id)],
                )
            return created

        return self._db.atomic(claim)

    # -- runs -------------------------------------------------------------------------------
    def _put_runs(
        self, runs: list[RunRecord], steps: list[StepRecord], *, guard: bool, consume: str = ""
    ) -> list[bool]:
        """Runs and steps in one statement; for each run, whether it was written."""
        writes = Writes()
        # a row twice in one statement is an error in PostgreSQL: the last write of each wins,
        # as it would one after the other
        rows = {run.id: run_row(run) for run in runs}
        writes.runs(list(rows.values()), guard=guard)
        writes.steps(list({(s.run_id, s.seq): step_row(s) for s in steps}.values()))
        if consume:
            writes.consume(consume)
        if not writes.ctes:
            return []
        ((_, written),) = self._write(writes)
        for step in steps:
            step.stored = True
        if not runs:
            return []
        if not guard:
            return [True] * len(runs)
        done = set(written)
        return [run.id in done for run in runs]

    def create_runs(self, runs: Iterable[RunRecord], steps: Iterable[StepRecord] = ()) -> None:
        """Create runs (and pre-journaled steps) atomically."""
        self._put_runs(list(runs), list(steps), guard=False)

    def get_run(self, run_id: str) -> RunRecord | None:
        """One run by id (inside a transaction, kept as read until it ends)."""
        rows = self._db.query(
            f"SELECT body FROM durable.runs WHERE id = %s{self._keep()}", (run_id,)
        )
        return RunRecord.from_dict(rows[0][0]) if rows else None

    def get_runs(self, run_ids: list[str]) -> dict[str, RunRecord]:
        """The runs of these ids that exist, by id, in one read."""
        if not run_ids:
            return {}
        rows = self._db.query(
            f"SELECT id, body FROM durable.runs WHERE id = ANY(%s){self._keep()}",
            (list(run_ids),),
        )
        return {run_id: RunRecord.from_dict(body) for run_id, body in rows}

    def resolve_run_id(self, text: str) -> str | None:
        """The run id that `text` uniquely starts or ends (case-insensitive), if any."""
        ids, total = self.match_run_ids(text, 1)
        return ids[0] if total == 1 else None

    def match_run_ids(self, text: str, limit: int) -> tuple[list[str], int]:
        """The newest `limit` run ids that `text` starts, else ends, and how many match in all."""
        return match_run_ids(self._db, text, limit)

    def save_run(self, run: RunRecord, *, guard: bool = True) -> bool:
        """Write a run; with `guard`, a finished run in the database is never overwritten."""
        if guard and not self._db.in_transaction:
            return self.save_runs([run])[0]
        return self._put_runs([run], [], guard=guard)[0]

    def save_runs(self, runs: list[RunRecord], steps: Iterable[StepRecord] = ()) -> list[bool]:
        """`save_run` (guarded) for several runs, and `save_step` for several steps, committed
        together (and with what other threads write meanwhile); for each run, False when it
        was left as it was."""
        steps = list(steps)
        if self._db.in_transaction:
            return self._put_runs(runs, steps, guard=True)
        if not runs and not steps:
            return []
        return self._group.submit((runs, steps))

    def _write_batches(self, batches: list[_Batch]) -> list[list[bool]]:
        """The group commit's statement: every queued writer's runs and steps at once."""
        runs = [run for batch_runs, _ in batches for run in batch_runs]
        steps = [step for _, batch_steps in batches for step in batch_steps]
        saved = iter(self._put_runs(runs, steps, guard=True))
        return [[next(saved) for _ in batch_runs] for batch_runs, _ in batches]

    def list_runs(
        self,
        *,
        function: str | None = None,
        status: str | Iterable[str] | None = None,
        limit: int | None = None,
        before: str | None = None,
    ) -> Iterator[RunRecord]:
        """Runs newest first, filtered, streamed (never all loaded at once)."""
        return list_runs(self._db, function=function, status=status, limit=limit, before=before)

    def count_runs(self, function: str | None = None) -> int:
        """Number of runs (of one function)."""
        if function is None:
            return self._db.query("SELECT count(*) FROM durable.runs")[0][0]
        rows = self._db.query("SELECT count(*) FROM durable.runs WHERE function = %s", (function,))
        return rows[0][0]

    # -- steps ------------------------------------------------------------------------------
    def load_steps(self, run_id: str) -> list[StepRecord]:
        """A run's journal in execution order (one read)."""
        rows = self._db.query(
            "SELECT body FROM durable.steps WHERE run_id = %s ORDER BY seq", (run_id,)
        )
        return [StepRecord.from_store(body) for (body,) in rows]

    def save_step(
        self, step: StepRecord, *, run: RunRecord | None = None, consume: str | None = None
    ) -> None:
        """Commit a step (and optionally its run, and one use of an injected failure) at once.

        The run is guarded like `save_run`'s: one cancelled (or ended) meanwhile stays so."""
        if run is None and consume is None and not self._db.in_transaction:
            self.save_runs([], [step])  # the hot path: shared with concurrent writers
            return
        self._put_runs([run] if run is not None else [], [step], guard=True, consume=consume or "")

    # -- injected failures and flags --------------------------------------------------------
    def add_failure(self, key: str, times: int, message: str) -> None:
        """Fail the next `times` attempts (-1: every attempt) matching `key`."""
        if times == 0:
            self._db.fenced(
                "gone AS (DELETE FROM durable.failures f USING fence WHERE f.key = %s)",
                "SELECT ok FROM fence",
                [key],
            )
            return
        self._db.fenced(
            "put AS (INSERT INTO durable.failures (key, times, message)"
            " SELECT %s, %s, %s FROM fence ON CONFLICT (key) DO UPDATE"
            " SET times = excluded.times, message = excluded.message)",
            "SELECT ok FROM fence",
            [key, times, message],
        )

    def failures(self) -> dict[str, dict[str, Any]]:
        """All pending injected failures by key."""
        rows = self._db.query("SELECT key, times, message FROM durable.failures ORDER BY key")
        return {key: {"times": times, "message": message} for key, times, message in rows}

    def set_flag(self, key: str, value: Any) -> None:
        """Set (or, with None, clear) a small flag."""
        self._flag_lock(key)
        if value is None:
            self._db.fenced(
                "gone AS (DELETE FROM durable.flags f USING fence WHERE f.key = %s)",
                "SELECT ok FROM fence",
                [key],
            )
            return
        self._db.fenced(
            "put AS (INSERT INTO durable.flags (key, value) SELECT %s, %s::json FROM fence"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value)",
            "SELECT ok FROM fence",
            [key, dumps(value)],
        )

    def get_flag(self, key: str) -> Any:
        """One flag by its exact key (None when unset)."""
        self._flag_lock(key)
        rows = self._db.query("SELECT value FROM durable.flags WHERE key = %s", (key,))
        return rows[0][0] if rows else None

    def flags(self, prefix: str) -> dict[str, Any]:
        """Flags whose key starts with `prefix`."""
        self._flag_lock(prefix)
        where, args = _prefix("key", prefix)
        rows = self._db.query(f"SELECT key, value FROM durable.flags{where} ORDER BY key", args)
        return dict(rows)

    def has_flags(self, prefix: str) -> bool:
        """Whether any flag's key starts with `prefix` (cheaper than reading them)."""
        self._flag_lock(prefix)
        where, args = _prefix("key", prefix)
        return self._db.query(f"SELECT EXISTS (SELECT 1 FROM durable.flags{where})", args)[0][0]

    # -- runner coordination ----------------------------------------------------------------
    def lock_runner(self) -> None:
        """Nothing to lock: any number of runners share a database (leases keep them apart)."""

    def notify(self) -> None:
        """Wake the runners (with the commit, inside a transaction); a hint, so a database out
        of reach just leaves them to their polling."""
        self._db.hint(f"NOTIFY {CHANNEL}")

    def wake_fd(self) -> int | None:
        """A file descriptor that becomes readable when any process notifies."""
        if self._listener is None:
            self._listener = Listener(self._conninfo)
        return self._listener.fd

    def drain_wake(self) -> None:
        """Consume pending notifications."""
        if self._listener is not None:
            self._listener.drain()


def _prefix(column: str, prefix: str) -> tuple[str, list[str]]:
    """A WHERE clause matching keys that start with `prefix` (a range: the index answers)."""
    if not prefix:
        return "", []
    lo, hi = prefix_range(prefix)
    return f" WHERE {column} >= %s AND {column} < %s", [lo, hi]
