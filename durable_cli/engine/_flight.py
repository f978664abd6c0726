"""Runs in flight: started on a worker thread (`def` handlers) or a task (`async def`), landed
back on the loop, where the verdict is acted on. Nothing is awaited on the loop per run: a busy
runner starts and lands thousands of runs a second, and each await costs a task and a wake-up."""

from __future__ import annotations

import asyncio
import heapq
from typing import TYPE_CHECKING, Any

from ..errors import LeaseLost, StateError
from ..sdk import Function
from ..store import RunRecord
from ._invocation import Invocation, Verdict
from ._listener import Change
from ._registry import FAILED_EVENT
from ._timers import TIMER_PREFIX

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Flight"]

_JOURNAL_RETRY_MS = 2000  # a run whose journal write failed tries again this much later


class Flight:
    """Mixed into `Engine`: dispatch, the worker side of a run, landing, and what follows."""

    def _dispatch(self: Engine) -> None:
        starting: list[tuple[Function, RunRecord, bool]] = []
        while self._ready and len(self._active) < self.concurrency:
            _, _, run_id = heapq.heappop(self._ready)
            self._queued.discard(run_id)
            if run_id in self._active:
                self._again.add(run_id)
                continue
            self._active[run_id] = None
            ready = self._launch(run_id)
            if ready is not None:
                starting.append(ready)
        if starting:
            self._start_sync(starting)

    def _launch(self: Engine, run_id: str) -> tuple[Function, RunRecord, bool] | None:
        """Put a run in flight: an `async def` handler goes to a task; a `def` one is returned,
        to start with the others of this dispatch (`_start_sync`)."""
        try:
            ready = self._prepare(run_id)
        except Exception as exc:  # an engine fault must not kill the loop; the run stays resumable
            self._fault(run_id, exc)
            ready = None
        if ready is None:
            self._land(run_id)
            return None
        fn, run, fresh = ready
        if not fn.is_async:
            return ready
        task = asyncio.ensure_future(self._drive_async(fn, run, fresh))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return None

    def _start_sync(self: Engine, starting: list[tuple[Function, RunRecord, bool]]) -> None:
        """Start a dispatch's `def` runs: one worker marks them all running in one commit, then
        calls the last one's handler and hands the others to workers of their own.

        One commit instead of each worker put to sleep and woken again for its own; in a worker,
        not on the loop, which the TUI answers keys on."""
        self._pool.submit(self._start_batch, starting)

    def _start_batch(self: Engine, starting: list[tuple[Function, RunRecord, bool]]) -> None:
        firsts = [self._mark_running(run) for _, run, _ in starting]
        try:
            saved = self.store.save_runs([run for _, run, _ in starting])
        except BaseException as exc:  # the journal could not be written: each stays resumable
            for fn, run, _ in starting:
                self._post_landed((fn, run, None, exc))
            return
        last = len(starting) - 1
        for i, ((fn, run, fresh), first, ok) in enumerate(
            zip(starting, firsts, saved, strict=True)
        ):
            if not ok:  # cancelled meanwhile
                self._post_landed((fn, run, None, None))
                continue
            self.emit_run(run, "running", detail={"resumed": not first})
            if i == last:
                self._work(fn, run, fresh)
            else:
                self._pool.submit(self._work, fn, run, fresh)

    def _prepare(self: Engine, run_id: str) -> tuple[Function, RunRecord, bool] | None:
        """On the loop: whether and how the run goes now (None: not now, or not at all)."""
        fresh = self._fresh.pop(run_id, None)
        if fresh is None or fresh.owner != self.lease.runner_id:
            # not one this engine just created or took: claim it, unless a live runner holds
            # it or it may not go yet (a due time another runner already took, say)
            fresh, run = None, self.store.leases.claim(run_id, self.clock.now_ms())
        else:
            run = fresh
        if run is None or run.finished or self._stopping:
            return None
        if run.status == "paused" and run.grants <= 0 and not run.meta.get("resume"):
            return None
        fn = self.registry.get(run.function)
        if fn is None:
            if run.status != "paused":
                run.status, run.reason = "paused", f"function {run.function!r} is not loaded"
                self.store.save_run(run)
                self.emit_run(run, "paused", error=run.reason)
            return None
        if self.flow.start_timed_out(fn, run):
            limit = fn.options.timeouts["start"]
            self._cancel_now(run, f"timed out: did not start within {limit:g}s")
            return None
        if not self.flow.acquire(fn, run):
            return None
        self._timer_at.pop(run.id, None)
        if run.started_at is None:
            self._arm_finish_timeout(run, self.clock.now_ms())
        return fn, run, fresh is not None

    def _mark_running(self: Engine, run: RunRecord) -> bool:
        """Set the run running (in memory); True if this is its first start."""
        first = run.started_at is None
        run.meta.pop("resume", None)
        run.status, run.wake_at, run.reason = "running", None, None
        run.started_at = run.started_at or self.clock.now_ms()
        return first

    def _invocation(self: Engine, fn: Function, run: RunRecord, fresh: bool) -> Invocation:
        """Load the run's journal (a fresh run has none yet) and bind it to an invocation."""
        inv = Invocation(self, fn, run, [] if fresh else self.store.load_steps(run.id))
        self._active[run.id] = inv
        return inv

    def _work(self: Engine, fn: Function, run: RunRecord, fresh: bool) -> None:
        """In a worker thread: call a started run's `def` handler, then hand the verdict to the
        loop. Verdicts that land together are taken in one call on the loop."""
        try:
            landed = (fn, run, self._invocation(fn, run, fresh).call_sync(), None)
        except BaseException as exc:  # handed to the loop, which decides what it means
            landed = (fn, run, None, exc)
        self._post_landed(landed)

    def _post_landed(self: Engine, landed: tuple[Any, ...]) -> None:
        """From a worker: hand a run's verdict (or fault) to the loop."""
        self._landed.append(landed)
        if not self._landing:
            self._landing = True
            try:
                self._loop.call_soon_threadsafe(self._take_landed)  # type: ignore[union-attr]
            except (AttributeError, RuntimeError):
                # no loop serving (closed, or between serve() calls): the next serve() takes it
                self._landing = False

    def _take_landed(self: Engine) -> None:
        self._landing = False  # first: a verdict appended from now on posts another call
        landed = self._landed
        while landed:
            fn, run, verdict, error = landed.popleft()
            if error is not None and not isinstance(error, Exception | LeaseLost):
                self._settle(fn, run, None, None)
                raise error  # SystemExit or KeyboardInterrupt in a step: the runner stops
            self._settle(fn, run, verdict, error)

    async def _drive_async(self: Engine, fn: Function, run: RunRecord, fresh: bool) -> None:
        verdict, error = None, None
        try:
            first = self._mark_running(run)
            if await self.journal.save_run(run):  # else cancelled meanwhile
                self.emit_run(run, "running", detail={"resumed": not first})
                verdict = await self._invocation(fn, run, fresh).call_async()
        except (Exception, LeaseLost) as exc:
            error = exc
        finally:  # cancelled too (shutdown): the run leaves the flight, resumable
            self._settle(fn, run, verdict, error)

    def _settle(
        self: Engine,
        fn: Function,
        run: RunRecord,
        verdict: Verdict | None,
        error: BaseException | None,
    ) -> None:
        """On the loop: a run's turn in flight is over, with a verdict or an engine fault."""
        self.flow.release(fn, run)
        try:
            if error is not None:
                self._fault(run.id, error)
            elif verdict is not None:
                self._after(fn, run, verdict)
        except Exception as exc:
            self._fault(run.id, exc)
        finally:
            self._land(run.id)

    def _fault(self: Engine, run_id: str, exc: BaseException) -> None:
        """An engine fault in a run: reported; the run stays as last journaled."""
        if isinstance(exc, LeaseLost):  # not a fault: the run is another runner's now
            self._lease_lost()
            return
        self.emit(
            Change(
                kind="error",
                at=self.clock.now_ms(),
                run_id=run_id,
                error=f"{type(exc).__name__}: {exc}",
            )
        )
        if isinstance(exc, StateError):  # the journal could not be written (disk full…)
            self._set_timer(run_id, self.clock.now_ms() + _JOURNAL_RETRY_MS)

    def _land(self: Engine, run_id: str) -> None:
        self._active.pop(run_id, None)
        if run_id in self._again:
            self._again.discard(run_id)
            self._enqueue(run_id)
        if not self._active:
            for waiter in self._drained:
                if not waiter.done():
                    waiter.set_result(None)
            self._drained.clear()
        self._poke()

    def _after(self: Engine, fn: Function, run: RunRecord, verdict: Verdict) -> None:
        if verdict.wake_at is not None:
            self._set_timer(run.id, verdict.wake_at)
        if verdict.status not in ("completed", "failed", "cancelled"):
            return
        self._timer_at.pop(f"{TIMER_PREFIX}finish/{run.id}", None)
        if run.parent:
            parent = self.store.get_run(run.parent["run"])
            if parent is not None and not parent.finished:
                parent.meta["resume"] = True
                parent.status = "queued"
                self.store.save_run(parent)
                self._enqueue(parent.id)
        if verdict.status == "failed" and fn.options.on_failure is not None:
            handler = self.registry.get(f"{fn.id}-failure")
            if handler is not None:
                event = self.make_event(
                    FAILED_EVENT,
                    {
                        "function_id": fn.id,
                        "run_id": run.id,
                        "error": run.error,
                        "event": run.event,
                    },
                )
                failure = self.new_run(handler, event)
                with self.store.batch():
                    self.store.put_event(event, queue=False)
                    self.store.create_runs([failure])
                self.emit_run(failure, "queued")
                self._enqueue(failure.id)

    async def drain(self: Engine, timeout: float | None = None) -> None:
        """Wait for runs in flight to reach their next journal point."""
        if not self._active:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._drained.append(waiter)
        await asyncio.wait({waiter}, timeout=timeout)
