"""Runs in flight: started on a worker thread (`def` handlers) or a task (`async def`), landed
back on the loop, where the verdict is acted on. Nothing is awaited on the loop per run: a busy
runner starts and lands thousands of runs a second, and each await costs a task and a wake-up."""

from __future__ import annotations

import asyncio
import collections
from concurrent.futures import Executor, ThreadPoolExecutor
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

Ready = tuple[Function, RunRecord, bool]  # a run about to start; True: new, no journal yet


class Flight:
    """Dispatch, the worker side of a run, landing, and what follows a verdict."""

    def __init__(self, engine: Engine, concurrency: int, workers: Executor | None = None) -> None:
        """Run at most `concurrency` runs of `engine` at once, on `workers` if given (the
        caller's to shut down), else on worker threads of its own."""
        self.engine = engine
        self.concurrency = concurrency
        self.stopping = False
        self._own_pool = workers is None
        self._pool = workers or ThreadPoolExecutor(concurrency, thread_name_prefix="durable-step")
        self._tasks: set[asyncio.Task[Any]] = set()  # async handlers in flight
        self._landed: collections.deque[tuple[Any, ...]] = collections.deque()
        self._landing = False  # a call to take the landed verdicts is on its way to the loop
        self._drained: list[asyncio.Future[None]] = []

    @property
    def landed(self) -> int:
        """Verdicts handed over by workers and not yet taken on the loop."""
        return len(self._landed)

    def dispatch(self) -> None:
        """On the loop: start ready runs while there is room."""
        engine = self.engine
        schedule = engine.schedule
        starting: list[Ready] = []
        while schedule.has_ready and len(schedule.active) < self.concurrency:
            run_id = schedule.pop()
            if run_id is None:
                continue
            ready = self._launch(run_id)
            if ready is not None:
                starting.append(ready)
        if starting:
            # one worker marks them all running in one commit, then calls the last one's
            # handler and hands the others to workers of their own: one commit instead of each
            # worker put to sleep and woken again for its own; in a worker, not on the loop,
            # which the TUI answers keys on
            self._pool.submit(self._start_batch, starting)

    def _launch(self, run_id: str) -> Ready | None:
        """Put a run in flight: an `async def` handler goes to a task; a `def` one is returned,
        to start with the others of this dispatch."""
        try:
            ready = self._prepare(run_id)
        except LeaseLost:
            self.engine.upkeep.lease_lost()
            ready = None
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

    def _start_batch(self, starting: list[Ready]) -> None:
        engine = self.engine
        firsts = [self._mark_running(run) for _, run, _ in starting]
        try:
            saved = engine.store.save_runs([run for _, run, _ in starting])
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
            engine.emit_run(run, "running", detail={"resumed": not first})
            if i == last:
                self._work(fn, run, fresh)
            else:
                self._pool.submit(self._work, fn, run, fresh)

    def _prepare(self, run_id: str) -> Ready | None:
        """On the loop: whether and how the run goes now (None: not now, or not at all)."""
        engine = self.engine
        fresh = engine.schedule.take_fresh(run_id)
        if fresh is None or fresh.owner != engine.lease.runner_id:
            # not one this engine just created: claim it, unless a live runner holds it or it
            # may not go yet (a due time another runner already took, say)
            fresh, run = None, engine.store.leases.claim(run_id, engine.clock.now_ms())
        else:
            run = fresh
        if run is None or run.finished or self.stopping:
            return None
        if run.status == "paused" and run.grants <= 0 and not run.meta.get("resume"):
            return None
        fn = engine.registry.get(run.function)
        if fn is None:
            if run.status != "paused":
                run.status, run.reason = "paused", f"function {run.function!r} is not loaded"
                engine.store.save_run(run)
                engine.emit_run(run, "paused", error=run.reason)
            return None
        if engine.flow.start_timed_out(fn, run):
            limit = fn.options.timeouts["start"]
            engine.intake.cancel_now(run, f"timed out: did not start within {limit:g}s")
            return None
        if not engine.flow.acquire(fn, run):
            return None
        engine.timers.cancel(run.id)
        if run.started_at is None:
            engine.upkeep.arm_finish_timeout(run, engine.clock.now_ms())
        return fn, run, fresh is not None

    def _mark_running(self, run: RunRecord) -> bool:
        """Set the run running (in memory); True if this is its first start."""
        first = run.started_at is None
        run.meta.pop("resume", None)
        run.status, run.wake_at, run.reason = "running", None, None
        run.started_at = run.started_at or self.engine.clock.now_ms()
        return first

    def _invocation(self, fn: Function, run: RunRecord, fresh: bool) -> Invocation:
        """Load the run's journal (a fresh run has none yet) and bind it to an invocation."""
        engine = self.engine
        inv = Invocation(engine, fn, run, [] if fresh else engine.store.load_steps(run.id))
        engine.schedule.active[run.id] = inv
        return inv

    def _work(self, fn: Function, run: RunRecord, fresh: bool) -> None:
        """In a worker thread: call a started run's `def` handler, then hand the verdict to the
        loop. Verdicts that land together are taken in one call on the loop."""
        try:
            landed = (fn, run, self._invocation(fn, run, fresh).call_sync(), None)
        except BaseException as exc:  # handed to the loop, which decides what it means
            landed = (fn, run, None, exc)
        self._post_landed(landed)

    def _post_landed(self, landed: tuple[Any, ...]) -> None:
        """From a worker: hand a run's verdict (or fault) to the loop."""
        self._landed.append(landed)
        if not self._landing:
            self._landing = True
            if not self.engine.call_on_loop(self.take_landed):
                # no loop serving (closed, or between serve() calls): the next serve() takes it
                self._landing = False

    def take_landed(self) -> None:
        """On the loop: act on every verdict the workers handed over."""
        self._landing = False  # first: a verdict appended from now on posts another call
        landed = self._landed
        while landed:
            fn, run, verdict, error = landed.popleft()
            if error is not None and not isinstance(error, Exception | LeaseLost):
                self._settle(fn, run, None, None)
                raise error  # SystemExit or KeyboardInterrupt in a step: the runner stops
            self._settle(fn, run, verdict, error)

    async def _drive_async(self, fn: Function, run: RunRecord, fresh: bool) -> None:
        verdict, error = None, None
        try:
            first = self._mark_running(run)
            if await self.engine.journal.save_run(run):  # else cancelled meanwhile
                self.engine.emit_run(run, "running", detail={"resumed": not first})
                verdict = await self._invocation(fn, run, fresh).call_async()
        except (Exception, LeaseLost) as exc:
            error = exc
        finally:  # cancelled too (shutdown): the run leaves the flight, resumable
            self._settle(fn, run, verdict, error)

    def _settle(
        self, fn: Function, run: RunRecord, verdict: Verdict | None, error: BaseException | None
    ) -> None:
        """On the loop: a run's turn in flight is over, with a verdict or an engine fault."""
        try:
            self.engine.flow.release(fn, run)
            if error is not None:
                self._fault(run.id, error)
            elif verdict is not None:
                self._after(fn, run, verdict)
        except LeaseLost:
            self.engine.upkeep.lease_lost()
        except Exception as exc:
            self._fault(run.id, exc)
        finally:
            self._land(run.id)

    def _fault(self, run_id: str, exc: BaseException) -> None:
        """An engine fault in a run: reported; the run stays as last journaled."""
        engine = self.engine
        if isinstance(exc, LeaseLost):  # not a fault: the run is another runner's now
            engine.upkeep.lease_lost()
            return
        error = f"{type(exc).__name__}: {exc}"
        engine.emit(Change(kind="error", at=engine.clock.now_ms(), run_id=run_id, error=error))
        if isinstance(exc, StateError):  # the journal could not be written (disk full…)
            engine.arm(run_id, engine.clock.now_ms() + _JOURNAL_RETRY_MS)

    def _land(self, run_id: str) -> None:
        engine = self.engine
        if engine.schedule.land(run_id):
            engine.push(run_id)
        if not engine.schedule.active:
            for waiter in self._drained:
                if not waiter.done():
                    waiter.set_result(None)
            self._drained.clear()
        engine.poke()

    def _after(self, fn: Function, run: RunRecord, verdict: Verdict) -> None:
        engine = self.engine
        if verdict.wake_at is not None:
            engine.arm(run.id, verdict.wake_at)
        if verdict.status not in ("completed", "failed", "cancelled"):
            return
        engine.timers.cancel(f"{TIMER_PREFIX}finish/{run.id}")
        store = engine.store
        if run.parent:
            # the parent's hold was written with this child, so it is waiting now; one still
            # unwinding in flight here goes again when it lands
            self._requeue_parent(run.parent["run"])
        if verdict.status == "failed" and fn.options.on_failure is not None:
            handler = engine.registry.get(f"{fn.id}-failure")
            if handler is not None:
                data = {"function_id": fn.id, "run_id": run.id, "error": run.error}
                event = engine.intake.make_event(FAILED_EVENT, {**data, "event": run.event})
                failure = engine.intake.new_run(handler, event)
                with store.batch():
                    store.put_event(event, queue=False)
                    store.create_runs([failure])
                engine.emit_run(failure, "queued")
                engine.push(failure.id)

    def _requeue_parent(self, parent_id: str) -> None:
        """A child run ended: its waiting parent goes again, to settle its `invoke` step."""
        engine = self.engine
        parent = engine.store.get_run(parent_id)
        if parent is not None and not parent.finished:
            parent.meta["resume"] = True
            parent.status = "queued"
            engine.store.save_run(parent)
            engine.push(parent.id)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for runs in flight to reach their next journal point."""
        if not self.engine.schedule.active:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._drained.append(waiter)
        await asyncio.wait({waiter}, timeout=timeout)

    def close(self) -> None:
        """Start nothing more; worker threads finish their current step in the background."""
        self.stopping = True
        if self._own_pool:
            self._pool.shutdown(wait=False, cancel_futures=True)
