"""Group commit's queue: concurrent writers share one commit instead of paying for one each.

Both stores journal through it, each with its own commit (`_group` for SQLite,
`_postgres/_store` for PostgreSQL). The first writer to arrive becomes the leader: it takes
everything queued so far and commits it in one go; the others sleep, each on its own lock, until
their part is committed (or until one of them is made the next leader). Nobody goes on before
its write is committed, and a commit wakes exactly the writers it carried, never the whole crowd.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from ..errors import LeaseLost, StateError

__all__ = ["Batcher"]

Item = TypeVar("Item")
Result = TypeVar("Result")

_MAX_ITEMS = 256  # writers carried by one commit


class _Pending(Generic[Item, Result]):
    __slots__ = ("done", "error", "gate", "item", "result")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.done = False
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.gate = threading.Lock()
        self.gate.acquire()  # released once: committed, or promoted to leader


class Batcher(Generic[Item, Result]):
    """Leader/follower batching of `commit(items) -> results`, one result per item."""

    def __init__(self, commit: Callable[[list[Item]], list[Result]]) -> None:
        """`commit` writes a batch at once (raising, it writes none of it)."""
        self._commit_batch = commit
        self._mutex = threading.Lock()
        self._queue: list[_Pending[Item, Result]] = []
        self._leading = False

    def submit(self, item: Item) -> Result:
        """Commit `item`, sharing the commit with whatever else is queued; its result."""
        mine: _Pending[Item, Result] = _Pending(item)
        with self._mutex:
            self._queue.append(mine)
            follow = self._leading
            self._leading = True
        if follow:
            mine.gate.acquire()
            if mine.done:
                return _outcome(mine)
            # promoted: the previous leader left us at the head of the queue
        with self._mutex:
            batch, self._queue = self._queue[:_MAX_ITEMS], self._queue[_MAX_ITEMS:]
        try:
            self._commit(batch)
        finally:
            for pending in batch:
                pending.done = True
                if pending is not mine:
                    pending.gate.release()
            with self._mutex:
                if self._queue:
                    self._queue[0].gate.release()  # it leads the next commit
                else:
                    self._leading = False
        return _outcome(mine)

    def _commit(self, batch: list[_Pending[Item, Result]]) -> None:
        alone = len(batch) == 1  # writers that don't overlap: the hot path, kept to the minimum
        try:
            results = self._commit_batch([batch[0].item] if alone else [p.item for p in batch])
        except BaseException as exc:
            if alone or isinstance(exc, LeaseLost | StateError):
                for pending in batch:  # the lease, or the database: the same for every write
                    pending.error = exc
                return
            # one bad write must not sink the others: each alone, errors to their writers
            for pending in batch:
                self._commit([pending])
            return
        if alone:
            batch[0].result = results[0]
            return
        # one result per item, as `commit` promises: zip's strict check costs more than the rest
        for pending, result in zip(batch, results):  # noqa: B905
            pending.result = result


def _outcome(pending: _Pending[Item, Result]) -> Result:
    if pending.error is not None:
        raise pending.error
    return pending.result  # type: ignore[return-value]
