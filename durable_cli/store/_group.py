"""Group commit: concurrent writers share one SQLite transaction instead of queueing for one each.

A commit costs the same whether it carries one step or twenty, so when several runs journal steps
at once, the first writer to arrive becomes the leader and commits everything that queued up
behind it while it waited for the database; the others wait for that commit, then go on. A
writer alone pays only a lock and a list append. Nobody proceeds before its write is committed.

Each waiter sleeps on its own lock, released when its write is committed (or when it is made
the next leader): a commit wakes exactly the writers it carried, never the whole crowd.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["GroupCommit"]

Sql = Callable[..., sqlite3.Cursor]
Op = Callable[[Sql], Any]


class _Pending:
    __slots__ = ("done", "error", "gate", "op", "result")

    def __init__(self, op: Op) -> None:
        self.op = op
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.gate = threading.Lock()
        self.gate.acquire()  # released once: committed, or promoted to leader


class GroupCommit:
    """Runs write operations in shared transactions, leader/follower style."""

    def __init__(self, connection: Callable[[], sqlite3.Connection]) -> None:
        """`connection()` gives the calling thread's connection (autocommit mode)."""
        self._connection = connection
        self._mutex = threading.Lock()
        self._queue: list[_Pending] = []
        self._leading = False

    def run(self, op: Op) -> Any:
        """Run `op(sql)` inside a committed transaction; return its result or raise its error."""
        mine = _Pending(op)
        with self._mutex:
            self._queue.append(mine)
            follow = self._leading
            self._leading = True
        if follow:
            mine.gate.acquire()
            if mine.done:
                return _result(mine)
            # promoted: the previous leader left us at the head of the queue
        with self._mutex:
            batch, self._queue = self._queue, []
        try:
            self._commit(batch)
        finally:
            for item in batch:
                item.done = True
                if item is not mine:
                    item.gate.release()
            with self._mutex:
                if self._queue:
                    self._queue[0].gate.release()  # it leads the next commit
                else:
                    self._leading = False
        return _result(mine)

    def _commit(self, batch: list[_Pending]) -> None:
        sql = self._connection().execute
        if len(batch) == 1:
            # alone: the statement is its own transaction, no BEGIN/COMMIT round trips
            item = batch[0]
            try:
                item.result = item.op(sql)
            except BaseException as exc:  # handed to that writer
                item.error = exc
            return
        try:
            sql("BEGIN IMMEDIATE")
            for item in batch:
                item.result = item.op(sql)
            sql("COMMIT")
        except BaseException:
            # one bad write must not sink the others: roll back and write each alone
            _rollback(sql)
            for item in batch:
                item.result, item.error = None, None
                try:
                    sql("BEGIN IMMEDIATE")
                    item.result = item.op(sql)
                    sql("COMMIT")
                except BaseException as exc:  # handed to that writer
                    _rollback(sql)
                    item.error = exc


def _rollback(sql: Sql) -> None:
    with contextlib.suppress(sqlite3.Error):  # no transaction was open
        sql("ROLLBACK")


def _result(item: _Pending) -> Any:
    if item.error is not None:
        raise item.error
    return item.result
