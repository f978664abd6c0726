"""Run ownership on PostgreSQL: runners' leases on database time, fenced writes, claims.

The same model as the embedded store (`store/_leases.py`): one lease row per runner, renewed
while it works; a run names its owner (the `owner` column, beside its JSON); a run is taken from
a runner only by revoking that runner's row, and every write a runner makes is fenced by it.

- Time is the database's (`now()`): runners on machines whose clocks disagree still agree on
  whose lease ran out.
- The fence is the runner's row, read `FOR KEY SHARE` by each write (`_db`). Revoking deletes
  the row, so it waits for the runner's writes in flight, and every later write finds the row
  gone (`LeaseLost`).
- Claims lock the rows they take (`FOR UPDATE SKIP LOCKED`: two runners never wait on each
  other for the same batch) and re-check each run before taking it, in one transaction.
- A due time is a run in a timer status with `wake_at` set; a runner that claims it writes its
  id into `owner` (the JSON leaves a waiting run's owner out), so nobody else claims it again
  unless that runner dies first.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from typing import Any

import psycopg

from .._records import TIMER_STATUSES, RunRecord
from ._db import Database
from ._schema import statuses_sql
from ._writes import run_row

__all__ = ["PgLeases"]

_HOST = socket.gethostname()
_TIMERS = statuses_sql(TIMER_STATUSES)

# revoke every other runner whose lease ran out (the delete waits for its writes in flight); a
# runner never revokes itself: its lease may have run out while the database was away, and it
# renews it on its next turn unless another runner revoked it meanwhile
_REVOKE = "DELETE FROM durable.runners WHERE until < now() AND id IS DISTINCT FROM %s"
_ORPHAN = "(owner IS NULL OR NOT EXISTS (SELECT 1 FROM durable.runners x WHERE x.id = owner))"
_DUE_WHERE = (
    f"status IN ({_TIMERS}) AND wake_at IS NOT NULL AND wake_at <= %s AND {_ORPHAN}"
    " ORDER BY wake_at, id LIMIT %s"
)
_DUE = f"SELECT wake_at, id FROM durable.runs WHERE {_DUE_WHERE}"
# the lock re-reads a row another runner changed meanwhile, and re-checks it against all this
_CLAIM_DUE = f"SELECT body FROM durable.runs WHERE {_DUE_WHERE} FOR UPDATE SKIP LOCKED"
_TAKE = "UPDATE durable.runs SET owner = %s, body = %s::json WHERE id = %s"


def _record(body: dict[str, Any], owner: str | None) -> RunRecord:
    run = RunRecord.from_dict(body)
    run.owner = owner
    return run


class PgLeases:
    """The store's side of run ownership, on `durable.runners` and the runs' `owner`."""

    def __init__(self, db: Database) -> None:
        """Work through `db`, whose fence this sets."""
        self._db = db
        self.runner_id: str | None = None
        self._token: str | None = None

    # -- this runner --------------------------------------------------------------------------
    def register(self, runner_id: str, lease_ms: int) -> None:
        """Become a runner: write my lease row; from now on every write is fenced by it."""
        token = f"{runner_id}:{time.monotonic_ns()}"
        self._db.run(
            "INSERT INTO durable.runners (id, token, until, pid, host)"
            " VALUES (%s, %s, now() + %s * interval '1 millisecond', %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET token = excluded.token, until = excluded.until,"
            " pid = excluded.pid, host = excluded.host",
            (runner_id, token, lease_ms, os.getpid(), _HOST),
        )
        self.runner_id, self._token = runner_id, token
        self._db.fence = (runner_id, token)

    def renew(self, lease_ms: int) -> bool:
        """Push my lease's end further; False when it was revoked."""
        if self._token is None:
            return False
        changed = self._db.run(
            "UPDATE durable.runners SET until = now() + %s * interval '1 millisecond'"
            " WHERE id = %s AND token = %s",
            (lease_ms, self.runner_id, self._token),
        )
        return changed > 0

    def release(self) -> None:
        """Stop being a runner: my row goes (once my writes in flight are done), so my runs
        are anyone's at once."""
        if self._token is not None:
            self._db.run(
                "DELETE FROM durable.runners WHERE id = %s AND token = %s",
                (self.runner_id, self._token),
            )
        self._db.fence = None
        self.runner_id = self._token = None

    # -- every runner ------------------------------------------------------------------------
    def runners(self) -> dict[str, dict[str, Any]]:
        """Every runner row, each with `live` (its lease has not run out)."""
        rows = self._db.query(
            "SELECT id, token, pid, host, floor(extract(epoch FROM until) * 1000)::bigint,"
            " until >= now() FROM durable.runners"
        )
        return {
            rid: {
                "token": token,
                "pid": pid,
                "host": host,
                "until": until,
                "live": live or rid == self.runner_id,
            }
            for rid, token, pid, host, until, live in rows
        }

    def take_over(self, statuses: Iterable[str], limit: int | None = None) -> list[RunRecord]:
        """Revoke dead runners and make theirs (and unowned runs in `statuses`) mine."""
        me, wanted = self.runner_id, statuses_sql(statuses)
        bound = "" if limit is None else f" LIMIT {int(limit)}"

        def take(con: psycopg.Connection) -> list[RunRecord]:
            con.execute(_REVOKE, (me,))
            con.execute(
                "DELETE FROM durable.slots s WHERE s.runner IS NULL OR NOT EXISTS"
                " (SELECT 1 FROM durable.runners r WHERE r.id = s.runner)"
            )
            rows = con.execute(
                f"SELECT body FROM durable.runs WHERE status IN ({wanted}) AND {_ORPHAN}"
                f" ORDER BY id{bound} FOR UPDATE SKIP LOCKED"
            ).fetchall()
            return self._take(con, [_record(body, me) for (body,) in rows])

        return self._db.atomic(take)

    def _take(self, con: psycopg.Connection, runs: list[RunRecord]) -> list[RunRecord]:
        """Inside a claim: write `runs` as mine (`owner` set even where the JSON leaves it out)."""
        if runs:
            with con.cursor() as cur:
                cur.executemany(_TAKE, [(self.runner_id, run_row(r)[-1], r.id) for r in runs])
        return runs

    def claim(self, run_id: str, now_ms: int) -> RunRecord | None:
        """Make a run that may go now mine, unless a live runner holds it (None then)."""
        me = self.runner_id
        found = self._db.query("SELECT body, owner FROM durable.runs WHERE id = %s", (run_id,))
        if not found:
            return None
        run = _record(*found[0])
        if run.finished or (me is not None and run.owner == me):
            return run  # (mine already: nothing to lock)

        def take(con: psycopg.Connection) -> RunRecord | None:
            con.execute(_REVOKE, (me,))
            row = con.execute(
                f"SELECT body, owner, {_ORPHAN} FROM durable.runs WHERE id = %s FOR UPDATE",
                (run_id,),
            ).fetchone()
            if row is None:
                return None
            run = _record(row[0], row[1])
            if run.finished or run.owner == me:
                return run
            if not run.may_go(now_ms) or not row[2]:
                return None
            run.owner = me
            return self._take(con, [run])[0]

        return self._db.atomic(take)

    def due(self, now_ms: int, limit: int = 256) -> list[tuple[int, str]]:
        """Due times up to `now_ms` that no live runner took, earliest first: (ms, run id)."""
        return [(at, rid) for at, rid in self._db.query(_DUE, (now_ms, limit))]

    def upcoming(self) -> list[tuple[int, str]]:
        """Every due time no live runner took: (ms, run id)."""
        return self.due(2**62, 2**31)

    def claim_due(self, now_ms: int, limit: int = 256) -> list[RunRecord]:
        """Take the runs whose due time has come, each by one runner only."""
        if not self.due(now_ms, 1):
            return []  # the usual answer, in one read
        me = self.runner_id

        def take(con: psycopg.Connection) -> list[RunRecord]:
            con.execute(_REVOKE, (me,))
            rows = con.execute(_CLAIM_DUE, (now_ms, limit)).fetchall()
            runs = [_record(body, me) for (body,) in rows]
            return self._take(con, [r for r in runs if not r.finished and r.may_go(now_ms)])

        return self._db.atomic(take)

    # -- flow control across runners ---------------------------------------------------------
    def take_slot(self, key: str, run_id: str, limit: int) -> bool:
        """Hold one of `limit` concurrency slots of `key` for a run (True if it has one now)."""
        rows = self._db.fenced(
            "", "SELECT durable.take_slot(%s, %s, %s, %s) FROM fence",
            [key, run_id, self.runner_id, limit],
        )  # fmt: skip
        return bool(rows[0][0])

    def free_slot(self, key: str, run_id: str) -> None:
        """Give a run's concurrency slot back."""
        self._db.fenced(
            "gone AS (DELETE FROM durable.slots s USING fence WHERE s.key = %s AND s.run_id = %s)",
            "SELECT ok FROM fence",
            [key, run_id],
        )

    def window(self, key: str, entry_id: str, now_ms: int, period_ms: int, limit: int) -> int:
        """Count an entry into a sliding window of `period_ms`; 0 when it fits (and is
        recorded), else the epoch ms at which the window's oldest entry leaves it."""
        rows = self._db.fenced(
            "", "SELECT durable.take_window(%s, %s, %s, %s, %s) FROM fence",
            [key, entry_id, now_ms, period_ms, limit],
        )  # fmt: skip
        return int(rows[0][0])
