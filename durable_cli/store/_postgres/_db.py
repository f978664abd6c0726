"""Connections, transactions and the lease fence: how every statement of the store reaches the
database.

- Connections come from a small pool, one per thread at a time, in autocommit mode: a single
  statement is its own transaction, one round trip.
- A transaction (`transaction()`, the store's `batch()`) holds one connection for this thread;
  every store call the thread makes inside it joins it. It begins with `BEGIN` and, for a
  runner, the fence, sent together as one round trip.
- The fence is the runner's lease row, read `FOR KEY SHARE`: it must still hold the runner's
  token, and it stays locked until the commit. Revoking a runner deletes its row, which waits
  for the runner's writes in flight; every later write finds the row gone (`LeaseLost`), and a
  renewal (which changes no key) never waits for a write. A fenced single statement carries the
  fence as a materialised CTE (`fenced()`): the write and its check are one round trip.
- Lost connections (a restart, a network cut) are retried with jittered backoff, for the errors
  `_connect.is_retriable` names only. A transaction whose COMMIT got no answer is looked up by
  its transaction id (`txid_status`) once the database is back: committed work is never done
  twice, work that was rolled back is done again (`atomic`), so no hand-off is ever dropped.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from ...errors import LeaseLost, StateError
from ._connect import Backoff, connect, is_retriable, reason, translate
from ._schema import NAME_NS

__all__ = ["Database", "RolledBack"]

T = TypeVar("T")

_MAX_IDLE = 16  # pooled connections kept beyond that are closed when handed back
_FENCE = "SELECT true AS ok FROM durable.runners WHERE id = %s AND token = %s FOR KEY SHARE"
_FENCE_CTE = f"fence AS MATERIALIZED ({_FENCE})"


class RolledBack(StateError):
    """A transaction was rolled back by a lost connection (or a deadlock): nothing written."""


class Database:
    """A pool of connections to one database, this thread's transaction and the lease fence."""

    def __init__(self, conninfo: str, url: str, retry_s: float | None) -> None:
        """Connect with `conninfo`; `url` (masked) names the database in errors; lost
        connections are retried for `retry_s` seconds (None: until the database is back)."""
        self._conninfo = conninfo
        self.url = url
        self.retry_s = retry_s
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._closed = False
        # (runner id, token) of the lease row every write must find, once this is a runner's
        self.fence: tuple[str, str] | None = None

    # -- connections -----------------------------------------------------------------------
    def _take(self) -> psycopg.Connection:
        with self._lock:
            if self._closed:
                raise StateError(f"{self.url}: the store is closed")
            if self._idle:
                return self._idle.pop()
        return connect(self._conninfo)

    def _give(self, con: psycopg.Connection) -> None:
        healthy = (
            not con.closed
            and not con.broken
            and con.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        )
        with self._lock:
            if healthy and not self._closed and len(self._idle) < _MAX_IDLE:
                self._idle.append(con)
                return
        con.close()

    def _drop(self, con: psycopg.Connection) -> None:
        with contextlib.suppress(Exception):
            con.close()

    def _lost(self, con: psycopg.Connection) -> None:
        """A connection broke: so did the idle ones, most likely (a restart, a network cut).
        Close them all, so the next try connects afresh instead of finding each broken one."""
        self._drop(con)
        with self._lock:
            idle, self._idle = self._idle, []
        for other in idle:
            self._drop(other)

    def close(self) -> None:
        """Close every pooled connection; later calls raise."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for con in idle:
            self._drop(con)

    def first(self, op: Callable[[psycopg.Connection], None]) -> None:
        """`op` on a first connection, once (a database out of reach is a StateError at once,
        not retried); the connection then joins the pool."""
        con = None
        try:
            con = connect(self._conninfo)
            op(con)
        except psycopg.Error as exc:
            if con is not None:
                self._drop(con)
            raise translate(exc, self.url) from None
        except BaseException:
            if con is not None:
                self._drop(con)
            raise
        self._give(con)

    # -- this thread's transaction -----------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open."""
        return getattr(self._local, "con", None) is not None

    def _with(self, op: Callable[[psycopg.Connection], T]) -> T:
        """`op(connection)`: inside this thread's transaction, or alone (retried when the
        connection is lost; `op` must be safe to run again)."""
        con = getattr(self._local, "con", None)
        if con is not None:
            try:
                return op(con)
            except psycopg.Error as exc:
                if is_retriable(exc):
                    raise RolledBack(self._lost_text(exc)) from None
                raise translate(exc, self.url) from None
        backoff = Backoff(self.retry_s)
        while True:
            con = None
            try:
                con = self._take()
                result = op(con)
            except psycopg.Error as exc:
                if con is not None:
                    self._lost(con) if is_retriable(exc) else self._give(con)
                if not is_retriable(exc) or not backoff.wait():
                    raise translate(exc, self.url) from None
                continue
            self._give(con)
            return result

    def query(self, statement: Any, args: Any = None) -> list[tuple[Any, ...]]:
        """Every row a statement returns (a read, or a write that needs no fence)."""
        return self._with(lambda con: con.execute(statement, args).fetchall())

    def run(self, statement: Any, args: Any = None) -> int:
        """A statement that returns no rows: how many rows it changed."""
        return self._with(lambda con: con.execute(statement, args).rowcount)

    def lock_in_transaction(self, name: str) -> None:
        """Inside this thread's transaction: hold an exclusive lock on `name` until it ends
        (taken once per transaction); outside one, nothing. What a transaction reads under
        the lock stays as it read it, as under the embedded store's single writer."""
        locks = getattr(self._local, "locks", None)
        if not self.in_transaction or name in locks:
            return
        self.run("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (NAME_NS, name))
        locks.add(name)

    def hint(self, statement: str) -> None:
        """Run a statement once if the database is there; never waits for a lost connection,
        never raises (inside a transaction it is part of it, and fails with it)."""
        if self.in_transaction:  # (its failure is the transaction's: raised)
            self.run(statement)
            return
        try:
            con = self._take()
        except (psycopg.Error, StateError):
            return
        try:
            con.execute(statement)
        except psycopg.Error:
            self._drop(con)
            return
        self._give(con)

    def fenced(self, ctes: str, main: str, args: list[Any]) -> list[tuple[Any, ...]]:
        """`WITH <fence>, <ctes> <main>` in one statement: written only while this runner's
        lease holds (raises `LeaseLost` otherwise). The CTEs join `fence` (`FROM fence, …`), so
        nothing is written without it; `main` must select one row from `fence`. Without a lease
        (not a runner, or inside a transaction, whose BEGIN checked it) the fence is a constant."""
        fence = self.fence
        if fence is None or self.in_transaction:
            head, first = "fence AS (SELECT true AS ok)", []
        else:
            head, first = _FENCE_CTE, list(fence)
        statement = f"WITH {head}{', ' if ctes else ''}{ctes} {main}"
        rows = self.query(statement, first + args)
        if not rows:
            raise self._lease_lost()
        return rows

    def _lease_lost(self) -> LeaseLost:
        runner = self.fence[0] if self.fence else "?"
        return LeaseLost(f"{self.url}: the lease of runner {runner} was revoked: write refused")

    @contextlib.contextmanager
    def transaction(self, *, fenced: bool = True) -> Iterator[psycopg.Connection]:
        """BEGIN (and the fence) ... COMMIT on this thread's connection; nested calls join.

        Not retried: the caller's block can't be run again. A connection lost on the way
        raises `RolledBack`, unless only the COMMIT's answer was lost and it committed."""
        local = self._local
        con = getattr(local, "con", None)
        if con is not None:
            yield con
            return
        con, xid = self._begin(fenced)
        local.con, local.locks = con, set()
        try:
            yield con
        except psycopg.Error as exc:
            # a statement the block ran on the connection itself, not through `_with`: it
            # means what it means there (a lost connection rolled the transaction back)
            local.con = None
            self._rollback(con)
            if is_retriable(exc):
                raise RolledBack(self._lost_text(exc)) from None
            raise translate(exc, self.url) from None
        except BaseException:
            local.con = None
            self._rollback(con)
            raise
        local.con = None
        try:
            con.execute("COMMIT")
        except psycopg.Error as exc:
            self._lost(con) if is_retriable(exc) else self._drop(con)
            if not is_retriable(exc):
                raise translate(exc, self.url) from None
            if not self._committed(xid):  # the answer was lost: look the outcome up
                raise RolledBack(self._lost_text(exc)) from None
            return
        self._give(con)

    def atomic(self, op: Callable[[psycopg.Connection], T], *, fenced: bool = True) -> T:
        """`op(connection)` in a transaction, run again from the start when the connection was
        lost before it committed (so `op` must be safe to run again); joins an open one."""
        if self.in_transaction:
            return self._with(op)
        backoff = Backoff(self.retry_s)
        while True:
            try:
                with self.transaction(fenced=fenced) as con:
                    return op(con)
            except RolledBack:
                if not backoff.wait():
                    raise

    # -- the parts of a transaction -----------------------------------------------------------
    def _begin(self, fenced: bool) -> tuple[psycopg.Connection, int]:
        """A connection with a transaction begun, its id, the fence checked: one round trip,
        retried while the database is out of reach."""
        fence = self.fence if fenced else None
        begin = sql.SQL("BEGIN; SELECT txid_current()")
        if fence is not None:
            check = sql.SQL(_FENCE.replace("%s", "{}")).format(*map(sql.Literal, fence))
            begin = sql.SQL("{}; {}").format(begin, check)
        backoff = Backoff(self.retry_s)
        while True:
            con = None
            try:
                con = self._take()
                cur = con.execute(begin)
                cur.nextset()
                xid = cur.fetchone()[0]
                if fence is not None and (not cur.nextset() or cur.fetchone() is None):
                    self._rollback(con)
                    raise self._lease_lost()
                return con, xid
            except psycopg.Error as exc:
                if con is not None:
                    self._lost(con) if is_retriable(exc) else self._rollback(con)
                if not is_retriable(exc) or not backoff.wait():
                    raise translate(exc, self.url) from None

    def _lost_text(self, exc: BaseException) -> str:
        return f"{self.url}: transaction rolled back ({reason(exc)})"

    def _rollback(self, con: psycopg.Connection) -> None:
        try:
            con.execute("ROLLBACK")
        except Exception:
            self._lost(con)
            return
        self._give(con)

    def _committed(self, xid: int) -> bool:
        """Whether transaction `xid` committed (asked until the database answers)."""
        rows = self.query("SELECT txid_status(%s)", (xid,))
        return rows[0][0] == "committed"
