"""The runner: one asyncio loop that takes in events, drives runs and fires durable timers."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import StateError
from ..sdk import Function
from ..store import RunRecord, Store
from ._clock import Clock, WallClock
from ._control import Controls
from ._cron import CronScheduler
from ._flow import FlowControl
from ._intake import Intake
from ._invocation import Invocation, Verdict
from ._listener import Change, Listener
from ._registry import FAILED_EVENT, Registry
from ._services import StepServices
from ._timers import TIMER_PREFIX, Timers

__all__ = ["Engine", "StepInterceptor"]

StepInterceptor = Callable[[RunRecord, str, int], Callable[..., Any] | None]

_RESUMABLE = ("queued", "running", "retrying", "sleeping", "waiting")
_POLL_S = 1.0  # fallback look at the queue, for senders that could not poke the wake FIFO
_JOURNAL_RETRY_MS = 2000  # a run whose journal write failed tries again this much later


class Engine(Controls, Intake, StepServices, Timers):
    """Runs functions for events, step by step, journaling every step before moving on."""

    def __init__(
        self,
        store: Store,
        registry: Registry | None = None,
        *,
        clock: Clock | None = None,
        concurrency: int = 16,
        listeners: list[Listener] | None = None,
        interceptor: StepInterceptor | None = None,
    ) -> None:
        """Bind to a store and a registry of loaded functions.

        `interceptor(run, step_id, attempt)` is asked before each attempt of a `run` step may
        call the step's callable; a callable it returns runs instead (the testing helper's stubs
        and failures). Injected failures (`durable fail`) come first and skip it.
        """
        self.store = store
        self.interceptor = interceptor
        self.registry = registry or Registry()
        self.clock = clock or WallClock()
        self.concurrency = max(1, concurrency)
        self.flow = FlowControl(self)
        self.cron = CronScheduler(self)
        self._listeners: list[Listener] = list(listeners or ())
        self._failures = store.failures()
        self._failure_lock = threading.Lock()
        self._active: dict[str, Invocation | None] = {}
        self._again: set[str] = set()
        self._ready: list[tuple[int, int, str]] = []  # (-priority, arrival, run id)
        self._arrival = itertools.count()
        self._queued: set[str] = set()
        self._fresh: dict[str, RunRecord] = {}  # runs this engine just created: no read needed
        self._timers: list[tuple[int, str]] = []
        self._timer_at: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[None] | None = None  # the serve loop sleeps on it
        self._woken = False
        self._intake_due = True
        self._refresh_due = False
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="durable-step")
        self._tasks: set[asyncio.Task[Any]] = set()  # async handlers in flight
        self._landed: collections.deque[tuple[Any, ...]] = collections.deque()
        self._landing = False  # a call to take the landed verdicts is on its way to the loop
        self._drained: list[asyncio.Future[None]] = []
        self._stopping = False

    # -- listeners --------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Subscribe to changes."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Unsubscribe."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    @property
    def has_listeners(self) -> bool:
        """Whether anyone listens (building a Change costs time on the hot path)."""
        return bool(self._listeners)

    def emit(self, change: Change) -> None:
        """Report a change to every listener; a failing listener never breaks a run."""
        for listener in self._listeners:
            # not contextlib.suppress: that builds an object per change, a dozen per run
            try:  # noqa: SIM105
                listener(change)
            except Exception:
                pass

    def emit_run(self, run: RunRecord, status: str, **fields: Any) -> None:
        """Report a run's new status."""
        if self._listeners:
            self.emit(
                Change(
                    kind="run",
                    at=self.clock.now_ms(),
                    run_id=run.id,
                    function=run.function,
                    status=status,
                    **fields,
                )
            )

    # -- thread-safe pokes ------------------------------------------------------------------
    def _call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or _on_loop(loop):
            # on the loop, or not serving (between serve() calls): no other thread is in here
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def _poke(self) -> None:
        """On the loop: make the serve loop look around again (now, or when it next waits)."""
        self._woken = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def enqueue(self, run_id: str, priority: int = 0) -> None:
        """Make a run ready to execute (thread-safe; a run in flight goes again after)."""
        self._call_soon(self._enqueue, run_id, priority)

    def _enqueue(self, run_id: str, priority: int = 0) -> None:
        if run_id in self._active:
            self._again.add(run_id)
        elif run_id not in self._queued:
            self._queued.add(run_id)
            heapq.heappush(self._ready, (-priority, next(self._arrival), run_id))
        self._poke()

    def set_timer(self, timer_id: str, at: int) -> None:
        """Wake `timer_id` (a run id, or `timer:...`) at epoch ms `at` (thread-safe)."""
        self._call_soon(self._set_timer, timer_id, at)

    def wake(self, *, intake: bool = True) -> None:
        """Ask the loop to look at the store again (thread-safe)."""
        if intake:
            self._intake_due = True
        self._refresh_due = True
        self._call_soon(self._poke)

    def run_coroutine_threadsafe(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run `coro` on the engine loop from a worker thread and wait for its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    # -- driving runs -----------------------------------------------------------------------
    def _recover(self) -> None:
        """On start: every unfinished run resumes (oldest first) or waits for its timer."""
        runs = list(self.store.list_runs(status=_RESUMABLE))
        for run in reversed(runs):
            if run.status in ("queued", "running"):
                self._enqueue(run.id, run.meta.get("priority", 0))
            elif run.wake_at is not None:
                self._set_timer(run.id, run.wake_at)
            elif run.status == "waiting" and run.children:
                child = self.store.get_run(run.children[-1])
                if child is None or child.finished:
                    self._enqueue(run.id)
            self._arm_finish_timeout(run)
        self.flow.recover_timers()
        for key in self.store.flags("runq/"):  # queued runs were all picked up above
            self.store.set_flag(key, None)

    def _dispatch(self) -> None:
        while self._ready and len(self._active) < self.concurrency:
            _, _, run_id = heapq.heappop(self._ready)
            self._queued.discard(run_id)
            if run_id in self._active:
                self._again.add(run_id)
                continue
            self._active[run_id] = None
            self._launch(run_id)

    def _launch(self, run_id: str) -> None:
        """Put a run in flight: a `def` handler goes to a worker thread, an `async def` one to
        a task. Neither path awaits anything on the loop per run: a busy runner starts and
        lands thousands of runs a second."""
        try:
            ready = self._prepare(run_id)
        except Exception as exc:  # an engine fault must not kill the loop; the run stays resumable
            self._fault(run_id, exc)
            ready = None
        if ready is None:
            self._land(run_id)
            return
        fn, run, fresh = ready
        if fn.is_async:
            task = asyncio.ensure_future(self._drive_async(fn, run, fresh))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._pool.submit(self._work, fn, run, fresh)

    def _prepare(self, run_id: str) -> tuple[Function, RunRecord, bool] | None:
        """On the loop: whether and how the run goes now (None: not now, or not at all)."""
        fresh = self._fresh.pop(run_id, None)
        run = fresh or self.store.get_run(run_id)
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

    def _start(self, fn: Function, run: RunRecord, fresh: bool) -> Invocation | None:
        """Mark the run running and load its journal (a fresh run has none yet)."""
        first = run.started_at is None
        run.meta.pop("resume", None)
        run.status, run.wake_at, run.reason = "running", None, None
        run.started_at = run.started_at or self.clock.now_ms()
        if not self.store.save_run(run):
            return None  # cancelled meanwhile
        self.emit_run(run, "running", detail={"resumed": not first})
        inv = Invocation(self, fn, run, [] if fresh else self.store.load_steps(run.id))
        self._active[run.id] = inv
        return inv

    def _work(self, fn: Function, run: RunRecord, fresh: bool) -> None:
        """In a worker thread: start the run and call its `def` handler, then hand the verdict
        to the loop. Verdicts that land together are taken in one call on the loop."""
        try:
            inv = self._start(fn, run, fresh)
            landed = (fn, run, None if inv is None else inv.call_sync(), None)
        except BaseException as exc:  # handed to the loop, which decides what it means
            landed = (fn, run, None, exc)
        self._landed.append(landed)
        if not self._landing:
            self._landing = True
            loop = self._loop
            if loop is not None:
                with contextlib.suppress(RuntimeError):  # closed: the run stays resumable
                    loop.call_soon_threadsafe(self._take_landed)

    def _take_landed(self) -> None:
        self._landing = False  # first: a verdict appended from now on posts another call
        landed = self._landed
        while landed:
            fn, run, verdict, error = landed.popleft()
            if error is not None and not isinstance(error, Exception):
                self._settle(fn, run, None, None)
                raise error  # SystemExit or KeyboardInterrupt in a step: the runner stops
            self._settle(fn, run, verdict, error)

    async def _drive_async(self, fn: Function, run: RunRecord, fresh: bool) -> None:
        verdict, error = None, None
        try:
            inv = self._start(fn, run, fresh)
            if inv is not None:
                verdict = await inv.call_async()
        except Exception as exc:
            error = exc
        finally:  # cancelled too (shutdown): the run leaves the flight, resumable
            self._settle(fn, run, verdict, error)

    def _settle(
        self, fn: Function, run: RunRecord, verdict: Verdict | None, error: BaseException | None
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

    def _fault(self, run_id: str, exc: BaseException) -> None:
        """An engine fault in a run: reported; the run stays as last journaled."""
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

    def _land(self, run_id: str) -> None:
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

    def _after(self, fn: Function, run: RunRecord, verdict: Verdict) -> None:
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

    # -- serving ----------------------------------------------------------------------------
    async def serve(
        self,
        *,
        until_idle: bool = False,
        idle_wait: float = 2.0,
        stop: asyncio.Event | None = None,
        recover: bool = True,
        until_ms: int | None = None,
        cron: bool = True,
    ) -> None:
        """Run until `stop` is set, or with `until_idle` until nothing can progress soon, or
        until the clock passes `until_ms` (handy with virtual time). `cron=False` leaves cron
        schedules unarmed (the testing helper fires one tick itself)."""
        loop = self._loop = asyncio.get_running_loop()
        self._woken = True
        fd = self.store.wake_fd()
        if fd is not None:
            loop.add_reader(fd, self._on_ping)
        if recover:
            self._recover()
        if cron:
            self.cron.arm_all(catch_up=recover)
        last_look = time.monotonic()
        stopper = None
        if stop is not None:
            stopper = asyncio.ensure_future(stop.wait())
            stopper.add_done_callback(lambda _: self._poke())
        try:
            while not (stop is not None and stop.is_set()):
                self._woken = False
                if self._intake_due or time.monotonic() - last_look > _POLL_S:
                    if time.monotonic() - last_look > _POLL_S:
                        self._refresh_due = True  # as if poked: a sender may have had no FIFO
                    self._intake_due = False
                    last_look = time.monotonic()
                    self._intake()
                if self._refresh_due:
                    self._refresh_due = False
                    self._refresh()
                self._fire_timers()
                self._dispatch()
                busy = bool(self._active) or bool(self._ready)
                nxt = self._next_timer()
                if until_ms is not None and not busy and (nxt is None or nxt > until_ms):
                    return
                if until_idle and not busy and self._idle(idle_wait):
                    return
                timeout = self.clock.wait_timeout(nxt, busy=busy)
                if not self.clock.virtual:
                    timeout = _POLL_S if timeout is None else min(timeout, _POLL_S)
                if timeout == 0:
                    await asyncio.sleep(0)
                    continue
                await self._wait(timeout)
        finally:
            if stopper is not None:
                stopper.cancel()
            if fd is not None:
                with contextlib.suppress(Exception):
                    loop.remove_reader(fd)

    def _idle(self, idle_wait: float) -> bool:
        nxt = self._next_timer(work_only=True)
        # virtual time jumps to any timer at no cost, so only "no timer" is idle
        far = nxt is None or (
            not self.clock.virtual and nxt - self.clock.now_ms() > idle_wait * 1000
        )
        return far and not self.store.has_queued()

    async def _wait(self, timeout: float | None) -> None:
        """Sleep until poked or `timeout` passes: one future, no task per wait (busy runners
        wait thousands of times a second)."""
        if self._woken:
            return
        assert self._loop is not None
        waiter = self._waiter = self._loop.create_future()
        timer = None if timeout is None else self._loop.call_later(timeout, _release, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for runs in flight to reach their next journal point."""
        if not self._active:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._drained.append(waiter)
        await asyncio.wait({waiter}, timeout=timeout)

    def close(self) -> None:
        """Stop accepting work; worker threads finish their current step in the background."""
        self._stopping = True
        self._pool.shutdown(wait=False, cancel_futures=True)


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
