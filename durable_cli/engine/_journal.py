"""Journal writes of `async def` handlers: queued during a turn of the loop, committed together.

A `def` handler's thread waits for its own write (the store's group commit shares it with the
other threads). An `async def` handler awaits it instead: every write its runs ask for during
one turn of the loop goes into one commit at the start of the next, so a hundred async runs
taking a step cost one commit, not a hundred that each hold the loop. Nobody goes on before its
write is committed.
"""

from __future__ import annotations

import asyncio

from ..errors import LeaseLost
from ..store import RunRecord, StepRecord, Store

__all__ = ["LoopJournal"]


class LoopJournal:
    """Batches the writes asked for on the loop; the commit is made on the loop too (it is one
    short statement, and a worker thread would have to win the GIL back from the loop)."""

    def __init__(self, store: Store) -> None:
        """Write to `store`."""
        self._store = store
        self._runs: list[RunRecord] = []
        self._run_waiters: list[asyncio.Future[bool]] = []
        self._steps: list[StepRecord] = []
        self._step_waiters: list[asyncio.Future[bool]] = []
        self._due: asyncio.AbstractEventLoop | None = None  # the loop a flush is scheduled on

    def save_run(self, run: RunRecord) -> asyncio.Future[bool]:
        """`store.save_run(run)` in the next shared commit; the future tells if it was written."""
        waiter = self._queue()
        self._runs.append(run)
        self._run_waiters.append(waiter)
        return waiter

    def save_step(self, step: StepRecord) -> asyncio.Future[bool]:
        """`store.save_step(step)` in the next shared commit."""
        waiter = self._queue()
        self._steps.append(step)
        self._step_waiters.append(waiter)
        return waiter

    def _queue(self) -> asyncio.Future[bool]:
        loop = asyncio.get_running_loop()
        if self._due is not loop:  # (a flush scheduled on a loop closed since never ran)
            self._due = loop
            loop.call_soon(self._flush)
        return loop.create_future()

    def _flush(self) -> None:
        self._due = None
        runs, run_waiters = self._runs, self._run_waiters
        steps, step_waiters = self._steps, self._step_waiters
        self._runs, self._run_waiters, self._steps, self._step_waiters = [], [], [], []
        waiters = run_waiters + step_waiters
        try:
            saved = self._store.save_runs(runs, steps)
        except (Exception, LeaseLost) as exc:  # each waiter's run: its own failed write
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter, ok in zip(waiters, saved + [True] * len(steps), strict=True):
            if not waiter.done():  # its task was cancelled (shutdown): the write stands
                waiter.set_result(ok)
