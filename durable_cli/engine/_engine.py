"""The runner: one asyncio loop that takes in events, drives runs and fires durable timers.

`Engine` is the composition root and the API the CLI, the TUI and the testing helper use. The
work is done by collaborators that each own their state (see docs/architecture.md):

    schedule  ready runs and runs in flight          (_schedule.Schedule)
    timers    the loop's cache of due times          (_timers.Timers)
    intake    events off the queue into runs         (_intake.Intake)
    flight    starting, landing and settling runs    (_flight.Flight)
    services  what a running step asks of the engine (_services.StepServices)
    controls  what a user does to a live engine      (_control.Controls)
    upkeep    recovery, the lease, timer firing      (_upkeep.Upkeep)
    lease     this runner's lease in the store       (_lease.LeaseKeeper)
    flow      per-function limits                    (_flow.FlowControl)
    cron      cron schedules                         (_cron.CronScheduler)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any

from ..errors import LeaseLost
from ..store import PendingFailure, RunRecord, StepRecord, Store
from ._clock import Clock, WallClock
from ._control import Controls
from ._cron import CronScheduler
from ._flight import Flight
from ._flow import FlowControl
from ._intake import Intake
from ._journal import LoopJournal
from ._lease import DEFAULT_LEASE_S, LeaseKeeper
from ._listener import Change, Listener
from ._registry import Registry
from ._schedule import Schedule
from ._services import StepServices
from ._timers import Timers
from ._upkeep import Upkeep

__all__ = ["Engine", "StepInterceptor"]

StepInterceptor = Callable[[RunRecord, str, int], Callable[..., Any] | None]

_POLL_S = 1.0  # fallback look at the store, for senders that could not poke the wake FIFO


class Engine:
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
        workers: Executor | None = None,
    ) -> None:
        """Bind to a store and a registry of loaded functions.

        `interceptor(run, step_id, attempt)` is asked before each attempt of a `run` step may
        call the step's callable; a callable it returns runs instead (the testing helper's stubs
        and failures). Injected failures (`durable fail`) come first and skip it. `lease_s`: how
        long this runner keeps its runs once it stops renewing its lease (every third of that).
        `workers`: the threads `def` handlers run on (the caller keeps and shuts them down; the
        testing helper reuses its threads, and their connections, across calls).
        """
        self.store = store
        self.journal = LoopJournal(store)  # async handlers' writes, shared per turn of the loop
        self.interceptor = interceptor
        self.registry = registry or Registry()
        self.clock = clock or WallClock()
        self.lease = LeaseKeeper(store, lease_s)
        self.schedule = Schedule()
        self.timers = Timers()
        self.flow = FlowControl(self)
        self.cron = CronScheduler(self)
        self.services = StepServices(self)
        self.intake = Intake(self)
        self.flight = Flight(self, max(1, concurrency), workers)
        self.controls = Controls(self)
        self.upkeep = Upkeep(self)
        self._listeners: list[Listener] = list(listeners or ())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[None] | None = None  # the serve loop sleeps on it
        self._woken = False

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
            at, detail = self.clock.now_ms(), {} if detail is None else detail
            fn = run.function
            self.emit(Change("run", at, run.id, fn, None, status, None, duration_ms, error, detail))

    # -- the loop, and pokes from any thread --------------------------------------------------
    def call_on_loop(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Have the serving loop call `fn(*args)` soon (thread-safe); False when none serves."""
        loop = self._loop
        try:
            loop.call_soon_threadsafe(fn, *args)  # type: ignore[union-attr]
        except (AttributeError, RuntimeError):  # no loop, or a closed one
            return False
        return True

    def _call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or _on_loop(loop):
            # on the loop, or not serving (between serve() calls): no other thread is in here
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def poke(self) -> None:
        """On the loop: make the serve loop look around again (now, or when it next waits)."""
        self._woken = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def push(self, run_id: str, priority: int = 0) -> None:
        """On the loop: make a run ready to execute (a run in flight goes again after)."""
        self.schedule.push(run_id, priority)
        self.poke()

    def arm(self, timer_id: str, at: int) -> None:
        """On the loop: wake `timer_id` (a run id, or `timer:...`) at epoch ms `at`."""
        self.timers.set(timer_id, at)
        self.poke()

    def enqueue(self, run_id: str, priority: int = 0) -> None:
        """`push` from any thread."""
        self._call_soon(self.push, run_id, priority)

    def set_timer(self, timer_id: str, at: int) -> None:
        """`arm` from any thread."""
        self._call_soon(self.arm, timer_id, at)

    def wake(self, *, intake: bool = True) -> None:
        """Ask the loop to look at the store again (thread-safe)."""
        if intake:
            self.intake.due = True
        self.intake.refresh_due = True
        self._call_soon(self.poke)

    def run_coroutine_threadsafe(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run `coro` on the engine loop from a worker thread and wait for its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    # -- what running steps ask for (see `StepServices`) ----------------------------------------
    def take_injection(self, run: RunRecord, step_id: str) -> tuple[str, str] | None:
        """Use one injected failure for this attempt, if any applies: (key, message)."""
        return self.services.take_injection(run, step_id)

    def register_wait(self, run: RunRecord, rec: StepRecord) -> None:
        """Journal a wait for an event and the run's new status, together."""
        self.services.register_wait(run, rec)

    def send_from_step(self, name: str, data: Any, rec: StepRecord) -> list[str]:
        """Send an event from a step, journaling the step in the same transaction."""
        return self.services.send_from_step(name, data, rec)

    def new_child(self, parent: RunRecord, rec: StepRecord, function: Any, data: Any) -> RunRecord:
        """The child run of `step.invoke`, not stored yet (see `StepServices.new_child`)."""
        return self.services.new_child(parent, rec, function, data)

    def start_child(self, parent: RunRecord, rec: StepRecord, child: RunRecord) -> None:
        """Store a child run and its parent's hold in one transaction, and queue the child."""
        self.services.start_child(parent, rec, child)

    def make_event(self, name: str, data: Any = None, **kwargs: Any) -> dict[str, Any]:
        """A validated event stamped with the engine's clock."""
        return self.intake.make_event(name, data, **kwargs)

    def new_run(self, fn: Any, event: dict[str, Any], **fields: Any) -> RunRecord:
        """A queued run of `fn` for `event` (not yet stored), owned by this runner."""
        return self.intake.new_run(fn, event, **fields)

    # -- what a user does (see `Controls`) ------------------------------------------------------
    def send(self, name: str, data: Any = None, *, event_id: str | None = None) -> str:
        """Queue an event and take it in at once."""
        return self.controls.send(name, data, event_id=event_id)

    def cancel(self, run_id: str) -> RunRecord:
        """Cancel an unfinished run; one in flight stops at its next step."""
        return self.controls.cancel(run_id)

    def inject_failure(self, step_id: str, **kwargs: Any) -> str:
        """Fail the next attempts of a step (see `actions.inject_failure`)."""
        return self.controls.inject_failure(step_id, **kwargs)

    def clear_failure(self, step_id: str, **kwargs: Any) -> PendingFailure:
        """Remove a step's pending injected failure."""
        return self.controls.clear_failure(step_id, **kwargs)

    def clear_all_failures(self) -> list[PendingFailure]:
        """Remove every pending injected failure; returns what was removed."""
        return self.controls.clear_all_failures()

    def pending_failures(self, **kwargs: Any) -> list[PendingFailure]:
        """Injected failures still to happen (see `Controls.pending_failures`)."""
        return self.controls.pending_failures(**kwargs)

    def replay(self, run_id: str, from_step: str | None = None, *, data: Any = None) -> RunRecord:
        """Queue a new run of the same event (from a step; with other data: see `Controls`)."""
        return self.controls.replay(run_id, from_step, data=data)

    def set_step_mode(self, **kwargs: Any) -> None:
        """Step through a run (or new runs of a function): pause before each step."""
        self.controls.set_step_mode(**kwargs)

    def next_step(self, run_id: str) -> None:
        """In step mode: let exactly one more step attempt run."""
        self.controls.next_step(run_id)

    def retry_now(self, run_id: str) -> None:
        """Skip a backoff or sleep wait: resume the run now."""
        self.controls.retry_now(run_id)

    def continue_anyway(self, run_id: str) -> None:
        """After a code-change hold: go on with the new code, matching steps by id."""
        self.controls.continue_anyway(run_id)

    def swap_registry(self, registry: Registry) -> None:
        """Put new code live; runs paused for a missing function resume if it is back."""
        self.controls.swap_registry(registry)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for runs in flight to reach their next journal point."""
        await self.flight.drain(timeout)

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
        if self.flight.landed:  # verdicts that landed while no loop served
            loop.call_soon(self.flight.take_landed)
        fd = self.store.wake_fd()
        if fd is not None:
            loop.add_reader(fd, self.intake.on_ping)
        if not self.lease.active:
            self.lease.start()
        if recover:
            self.upkeep.recover()
        if cron:
            self.cron.arm_all(catch_up=recover)
        last_look = time.monotonic()
        stopper = None
        if stop is not None:
            stopper = asyncio.ensure_future(stop.wait())
            stopper.add_done_callback(lambda _: self.poke())
        try:
            while not (stop is not None and stop.is_set()):
                self._woken = False
                try:
                    last_look = self._turn(last_look)
                except LeaseLost:
                    self.upkeep.lease_lost()
                busy = self.schedule.busy
                nxt = self.timers.next()
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
        upkeep, intake = self.upkeep, self.intake
        if upkeep.lost:
            if self.schedule.active:
                return last_look  # in-flight runs first reach their refused writes
            upkeep.restart()
        if self.lease.due():
            upkeep.keep_lease()
        polled = time.monotonic() - last_look > _POLL_S
        if intake.due or polled:
            if polled:
                intake.refresh_due = True  # as if poked: a sender may have had no FIFO
                upkeep.claim_due()  # due times another runner set, or stale ones to drop
                self.flow.retry_blocked()  # a slot may have freed on another runner
            intake.due = False
            last_look = time.monotonic()
            intake.take()
        if intake.refresh_due:
            intake.refresh_due = False
            intake.refresh()
        upkeep.fire_timers()
        self.flight.dispatch()
        return last_look

    def _idle(self, idle_wait: float) -> bool:
        nxt = self.timers.next(work_only=True)
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
        self.flight.close()
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
