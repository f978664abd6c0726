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

from ..errors import LeaseLost
from ..store import RunRecord, Store
from ._clock import Clock, WallClock
from ._control import Controls
from ._cron import CronScheduler
from ._flight import Flight
from ._flow import FlowControl
from ._intake import Intake
from ._invocation import Invocation
from ._journal import LoopJournal
from ._lease import DEFAULT_LEASE_S, LeaseKeeper
from ._listener import Change, Listener
from ._registry import Registry
from ._services import StepServices
from ._timers import Timers

__all__ = ["Engine", "StepInterceptor"]

StepInterceptor = Callable[[RunRecord, str, int], Callable[..., Any] | None]

_RESUMABLE = ("queued", "running", "retrying", "sleeping", "waiting")
_POLL_S = 1.0  # fallback look at the queue, for senders that could not poke the wake FIFO


class Engine(Controls, Flight, Intake, StepServices, Timers):
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
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:
        """Bind to a store and a registry of loaded functions.

        `lease_s`: how long this runner keeps its runs when it stops renewing its lease (it
        renews every third of that while it serves); then another runner takes them over.

        `interceptor(run, step_id, attempt)` is asked before each attempt of a `run` step may
        call the step's callable; a callable it returns runs instead (the testing helper's stubs
        and failures). Injected failures (`durable fail`) come first and skip it.
        """
        self.store = store
        self.journal = LoopJournal(store)  # async handlers' writes, shared per turn of the loop
        self.interceptor = interceptor
        self.registry = registry or Registry()
        self.clock = clock or WallClock()
        self.concurrency = max(1, concurrency)
        self.lease = LeaseKeeper(store, lease_s)
        self._lost = False  # the lease was revoked: finish what is in flight, then start again
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

    def emit_run(
        self,
        run: RunRecord,
        status: str,
        *,
        error: str | None = None,
        detail: dict[str, Any] | None = None,
        duration_ms: int | None = None,
    ) -> None:
        """Report a run's new status."""
        if self._listeners:
            # positional: matching keywords cost more than building the rest of the Change
            at = self.clock.now_ms()
            self.emit(
                Change(
                    "run",
                    at,
                    run.id,
                    run.function,
                    None,
                    status,
                    None,
                    duration_ms,
                    error,
                    {} if detail is None else detail,
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
        """On start: take over the runs no live runner holds (oldest first), learn every due
        time, and resume waits whose child run ended while nothing ran."""
        self._sweep()
        leases = self.store.leases
        for at, run_id in leases.upcoming():
            self._set_timer(run_id, at)
        for run in reversed(list(self.store.list_runs(status=_RESUMABLE))):
            if run.status == "waiting" and run.children and run.wake_at is None:
                child = self.store.get_run(run.children[-1])
                if child is None or child.finished:
                    run.status = "queued"  # as when the child ends: claimable, then resumed
                    if self.store.save_run(run):
                        self._enqueue(run.id)
            self._arm_finish_timeout(run)
        self.flow.recover_timers()
        for key in self.store.flags("runq/"):  # queued runs were all picked up above
            self.store.set_flag(key, None)

    def _sweep(self) -> None:
        """Take over the queued and running runs that no live runner holds, and resume them."""
        for run in reversed(self.store.leases.take_over(("queued", "running"))):
            self._enqueue(run.id, run.meta.get("priority", 0))
            self._arm_finish_timeout(run)

    def _claim_due(self) -> None:
        """Take the runs whose due time came, wherever it was set (another runner's, say)."""
        for run in self.store.leases.claim_due(self.clock.now_ms()):
            self._enqueue(run.id, run.meta.get("priority", 0))

    def _keep_lease(self) -> None:
        """Renew the lease; sweep when another runner died; notice when ours was revoked."""
        ours, gone = self.lease.renew()
        if not ours:
            raise LeaseLost("this runner's lease was revoked")
        if gone:
            self._sweep()

    def _lease_lost(self) -> None:
        """Another runner holds our runs now: drop every plan; what is in flight stops at its
        next (refused) write; then the loop registers anew and sweeps (`_restart_lease`)."""
        if self._lost:
            return
        self._lost = True
        self.emit(Change(kind="error", at=self.clock.now_ms(), error="lease lost: runs dropped"))
        self._ready.clear()
        self._queued.clear()
        self._again.clear()
        self._fresh.clear()
        self._timers.clear()
        self._timer_at.clear()
        self.flow.forget()

    def _restart_lease(self) -> None:
        self._lost = False
        self.lease.start()
        self._recover()
        self.cron.arm_all(catch_up=False)

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
        if self._landed:  # verdicts that landed while no loop served
            loop.call_soon(self._take_landed)
        fd = self.store.wake_fd()
        if fd is not None:
            loop.add_reader(fd, self._on_ping)
        if not self.lease.active:
            self.lease.start()
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
                try:
                    last_look = self._turn(last_look)
                except LeaseLost:
                    self._lease_lost()
                busy = bool(self._active) or bool(self._ready)
                nxt = self._next_timer()
                if until_ms is not None and not busy and (nxt is None or nxt > until_ms):
                    return
                if until_idle and not busy and self._idle(idle_wait):
                    return
                timeout = self.clock.wait_timeout(nxt, busy=busy)
                if not self.clock.virtual:
                    timeout = _POLL_S if timeout is None else min(timeout, _POLL_S)
                    renewal = self.lease.seconds_to_renewal()
                    if renewal is not None:
                        timeout = min(timeout, renewal)
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

    def _turn(self, last_look: float) -> float:
        """One look around: lease, intake, other processes' changes, timers, dispatch."""
        if self._lost:
            if self._active:
                return last_look  # in-flight runs first reach their refused writes
            self._restart_lease()
        if self.lease.due():
            self._keep_lease()
        if self._intake_due or time.monotonic() - last_look > _POLL_S:
            if time.monotonic() - last_look > _POLL_S:
                self._refresh_due = True  # as if poked: a sender may have had no FIFO
                self._claim_due()  # due times another runner set, or stale ones to drop
                self.flow.retry_blocked()  # a slot may have freed on another runner
            self._intake_due = False
            last_look = time.monotonic()
            self._intake()
        if self._refresh_due:
            self._refresh_due = False
            self._refresh()
        self._fire_timers()
        self._dispatch()
        return last_look

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
            await asyncio.sleep(0)  # still yield: the loop is the TUI's too, keys must get a turn
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

    def close(self) -> None:
        """Stop accepting work and give the lease up; worker threads finish their current
        step in the background."""
        self._stopping = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):  # a store that can't be written: the lease lapses
            self.lease.release()


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
