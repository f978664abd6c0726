"""The runner: one asyncio loop that takes in events, drives runs and fires durable timers."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import InputError
from ..sdk import Function
from ..store import RunRecord, StepRecord, Store, new_id
from . import _actions as actions
from ._clock import Clock, WallClock
from ._invocation import Invocation, Verdict
from ._listener import Change, Listener
from ._registry import Registry

__all__ = ["Engine"]

StepInterceptor = Callable[[RunRecord, str, int], Callable[..., Any] | None]

_RESUMABLE = ("queued", "running", "retrying", "sleeping", "waiting")
_POLL_S = 1.0  # fallback look at the queue, for senders that could not poke the wake FIFO


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
        self._listeners: list[Listener] = list(listeners or ())
        self._failures = store.failures()
        self._failure_lock = threading.Lock()
        self._active: dict[str, Invocation | None] = {}
        self._again: set[str] = set()
        self._ready: deque[str] = deque()
        self._queued: set[str] = set()
        self._timers: list[tuple[int, str]] = []
        self._timer_at: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._intake_due = True
        self._refresh_due = False
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="durable-step")
        self._tasks: set[asyncio.Task[Any]] = set()
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
            with contextlib.suppress(Exception):
                listener(change)

    # -- thread-safe pokes ------------------------------------------------------------------
    def _call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if _on_loop(loop):
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _enqueue(self, run_id: str) -> None:
        if run_id in self._active:
            self._again.add(run_id)
        elif run_id not in self._queued:
            self._queued.add(run_id)
            self._ready.append(run_id)
        self._poke()

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

    # -- what invocations call --------------------------------------------------------------
    def take_injection(self, run: RunRecord, step_id: str) -> tuple[str, str] | None:
        """Use one injected failure for this attempt, if any applies: (key, message)."""
        if not self._failures:
            return None
        with self._failure_lock:
            for key in (f"run:{run.id}/{step_id}", f"fn:{run.function}/{step_id}"):
                entry = self._failures.get(key)
                if entry is None:
                    continue
                if entry["times"] > 0:
                    entry["times"] -= 1
                    if entry["times"] == 0:
                        del self._failures[key]
                return key, entry.get("message", "")
        return None

    def register_wait(self, run: RunRecord, rec: StepRecord) -> None:
        """Journal a wait for an event and the run's new status, together."""
        meta = rec.meta
        with self.store.batch():
            self.store.save_step(rec, run=run)
            self.store.set_flag(
                f"wait/{meta['event']}/{run.id}",
                {
                    "run": run.id,
                    "seq": rec.seq,
                    "step": rec.id,
                    "match": meta.get("match"),
                    "expected": meta.get("expected"),
                    "since": meta["since"],
                },
            )

    def send_from_step(self, name: str, data: Any, rec: StepRecord) -> list[str]:
        """Send an event from a step, journaling the step in the same transaction."""
        if rec.status == "completed":
            return list(rec.output or [])
        event = actions.make_event(name, data, ts=self.clock.now_ms())
        now = self.clock.now_ms()
        rec.status, rec.output, rec.ended_at = "completed", [event["id"]], now
        rec.attempts[-1].ended_at = now
        with self.store.batch():
            self.store.put_event(event)
            self.store.save_step(rec)
        self.wake()
        return [event["id"]]

    def start_child(self, parent: RunRecord, rec: StepRecord, function: Any, data: Any) -> None:
        """Create a child run for `step.invoke`, linked both ways, in one transaction."""
        fn_id = function.id if isinstance(function, Function) else function
        if not isinstance(fn_id, str) or self.registry.get(fn_id) is None:
            raise InputError(f"step.invoke: no loaded function {fn_id!r}")
        now = self.clock.now_ms()
        event = actions.make_event(f"invoke/{fn_id}", data, ts=now)
        child = RunRecord(
            id=new_id(now),
            function=fn_id,
            event=event,
            status="queued",
            created_at=now,
            parent={"run": parent.id, "step": rec.id},
        )
        rec.meta["child"] = child.id
        parent.children.append(child.id)
        with self.store.batch():
            self.store.create_runs([child])
            self.store.save_step(rec, run=parent)
        self._emit_run(child, "queued")
        self._call_soon(self._enqueue, child.id)

    # -- intake -----------------------------------------------------------------------------
    def _plan_runs(self, event: dict[str, Any], resumed: list[str]) -> list[RunRecord]:
        runs = []
        for fn in self.registry.for_event(event["name"]):
            runs.append(self._new_run(fn, event))
        resumed.extend(self._match_waits(event))
        return runs

    def _new_run(self, fn: Function, event: dict[str, Any]) -> RunRecord:
        now = self.clock.now_ms()
        return RunRecord(
            id=new_id(),
            function=fn.id,
            event=event,
            status="queued",
            created_at=now,
            step_mode=bool(self.store.flags(f"stepmode/{fn.id}")),
        )

    def _match_waits(self, event: dict[str, Any]) -> list[str]:
        """Complete the waits this event satisfies (inside the intake transaction)."""
        resumed = []
        for key, wait in self.store.flags(f"wait/{event['name']}/").items():
            if event["ts"] < wait["since"]:
                continue
            if wait.get("match"):
                value = event.get("data", {})
                for part in wait["match"].removeprefix("data.").split("."):
                    value = value.get(part) if isinstance(value, dict) else None
                if value != wait.get("expected"):
                    continue
            run = self.store.get_run(wait["run"])
            self.store.set_flag(key, None)
            if run is None or run.finished:
                continue
            steps = {s.seq: s for s in self.store.load_steps(run.id)}
            rec = steps.get(wait["seq"])
            if rec is None or rec.status == "completed":
                continue
            now = self.clock.now_ms()
            rec.status, rec.output, rec.ended_at = "completed", event, now
            if rec.attempts:
                rec.attempts[-1].ended_at = now
            run.status, run.wake_at = "queued", None
            self.store.save_step(rec, run=run)
            resumed.append(run.id)
        return resumed

    def _intake(self) -> None:
        resumed: list[str] = []
        if self.store.queued_count():
            created = self.store.claim_events(lambda ev: self._plan_runs(ev, resumed))
            for run in created:
                self._emit_run(run, "queued")
                self._enqueue(run.id)
        for run_id in resumed:
            self._enqueue(run_id)
        # runs queued by other processes: `durable replay`, or a child of a resumed parent
        for run in self.store.list_runs(status="queued"):
            if run.id not in self._active and run.id not in self._queued:
                self._enqueue(run.id)

    def _refresh(self) -> None:
        """After a poke from another process: injected failures and cancellations."""
        with self._failure_lock:
            self._failures = self.store.failures()
        for run_id, inv in list(self._active.items()):
            run = self.store.get_run(run_id)
            if inv is not None and run is not None and run.status == "cancelled":
                inv.cancelled = True

    def _on_ping(self) -> None:
        self.store.drain_wake()
        self._intake_due = True
        self._refresh_due = True
        self._poke()

    # -- timers -----------------------------------------------------------------------------
    def _set_timer(self, run_id: str, at: int) -> None:
        self._timer_at[run_id] = at
        heapq.heappush(self._timers, (at, run_id))

    def _next_timer(self) -> int | None:
        while self._timers and self._timer_at.get(self._timers[0][1]) != self._timers[0][0]:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def _fire_timers(self) -> None:
        now = self.clock.now_ms()
        while True:
            nxt = self._next_timer()
            if nxt is None or nxt > now:
                return
            _, run_id = heapq.heappop(self._timers)
            del self._timer_at[run_id]
            self._enqueue(run_id)

    # -- driving runs -----------------------------------------------------------------------
    def _recover(self) -> None:
        """On start: every unfinished run resumes (oldest first) or waits for its timer."""
        runs = list(self.store.list_runs(status=_RESUMABLE))
        for run in reversed(runs):
            if run.status in ("queued", "running"):
                self._enqueue(run.id)
            elif run.wake_at is not None:
                self._set_timer(run.id, run.wake_at)
            elif run.status == "waiting" and run.children:
                child = self.store.get_run(run.children[-1])
                if child is None or child.finished:
                    self._enqueue(run.id)

    def _emit_run(self, run: RunRecord, status: str, **fields: Any) -> None:
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

    def _dispatch(self) -> None:
        while self._ready and len(self._active) < self.concurrency:
            run_id = self._ready.popleft()
            self._queued.discard(run_id)
            self._active[run_id] = None
            task = asyncio.ensure_future(self._drive(run_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drive(self, run_id: str) -> None:
        try:
            await self._drive_once(run_id)
        except Exception as exc:  # an engine fault must not kill the loop; the run stays resumable
            self.emit(
                Change(
                    kind="error",
                    at=self.clock.now_ms(),
                    run_id=run_id,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
        finally:
            self._active.pop(run_id, None)
            if run_id in self._again:
                self._again.discard(run_id)
                self._enqueue(run_id)
            self._poke()

    async def _drive_once(self, run_id: str) -> None:
        run = self.store.get_run(run_id)
        if run is None or run.finished or self._stopping:
            return
        if run.status == "paused" and run.grants <= 0 and not run.meta.get("resume"):
            return
        fn = self.registry.get(run.function)
        if fn is None:
            if run.status != "paused":
                run.status, run.reason = "paused", f"function {run.function!r} is not loaded"
                self.store.save_run(run)
                self._emit_run(run, "paused", error=run.reason)
            return
        now = self.clock.now_ms()
        run.meta.pop("resume", None)
        run.status, run.wake_at, run.reason = "running", None, None
        first = run.started_at is None
        run.started_at = run.started_at or now
        if not self.store.save_run(run):
            return
        self._timer_at.pop(run_id, None)
        if first:
            self._emit_run(run, "running")
        inv = Invocation(self, fn, run, self.store.load_steps(run_id))
        self._active[run_id] = inv
        if fn.is_async:
            verdict = await inv.call_async()
        else:
            assert self._loop is not None
            verdict = await self._loop.run_in_executor(self._pool, inv.call_sync)
        self._after(run, verdict)

    def _after(self, run: RunRecord, verdict: Verdict) -> None:
        if verdict.wake_at is not None:
            self._set_timer(run.id, verdict.wake_at)
        if verdict.status in ("completed", "failed", "cancelled") and run.parent:
            parent = self.store.get_run(run.parent["run"])
            if parent is not None and not parent.finished:
                parent.meta["resume"] = True
                parent.status = "queued"
                self.store.save_run(parent)
                self._enqueue(parent.id)

    # -- serving ----------------------------------------------------------------------------
    async def serve(
        self,
        *,
        until_idle: bool = False,
        idle_wait: float = 2.0,
        stop: asyncio.Event | None = None,
        recover: bool = True,
    ) -> None:
        """Run until `stop` is set (or, with `until_idle`, until nothing can progress soon)."""
        loop = self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        fd = self.store.wake_fd()
        if fd is not None:
            loop.add_reader(fd, self._on_ping)
        if recover:
            self._recover()
        last_look = time.monotonic()
        try:
            while not (stop is not None and stop.is_set()):
                self._wake.clear()
                if self._intake_due or time.monotonic() - last_look > _POLL_S:
                    self._intake_due = False
                    last_look = time.monotonic()
                    self._intake()
                if self._refresh_due:
                    self._refresh_due = False
                    self._refresh()
                self._fire_timers()
                self._dispatch()
                nxt = self._next_timer()
                busy = bool(self._active) or bool(self._ready)
                if until_idle and not busy:
                    # virtual time jumps to any timer at no cost, so only "no timer" is idle
                    far = nxt is None or (
                        not self.clock.virtual and nxt - self.clock.now_ms() > idle_wait * 1000
                    )
                    if far and not self.store.queued_count():
                        return
                timeout = self.clock.wait_timeout(nxt, busy=busy)
                if not self.clock.virtual:
                    timeout = _POLL_S if timeout is None else min(timeout, _POLL_S)
                if timeout == 0:
                    await asyncio.sleep(0)
                    continue
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
                pending = {waiter} | ({stopper} if stopper else set())
                await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for fut in pending:
                    fut.cancel()
        finally:
            if fd is not None:
                with contextlib.suppress(Exception):
                    loop.remove_reader(fd)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for runs in flight to reach their next journal point."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def close(self) -> None:
        """Stop accepting work; worker threads finish their current step in the background."""
        self._stopping = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- user actions (the TUI and the testing helper call these on the loop) ---------------
    def send(self, name: str, data: Any = None, *, event_id: str | None = None) -> str:
        """Queue an event and take it in at once."""
        event = actions.make_event(name, data, event_id=event_id, ts=self.clock.now_ms())
        self.store.put_event(event)
        self.wake()
        return event["id"]

    def cancel(self, run_id: str) -> RunRecord:
        """Cancel an unfinished run; one in flight stops at its next step."""
        run = actions.cancel_run(self.store, run_id, now_ms=self.clock.now_ms())
        inv = self._active.get(run.id)
        if inv is not None:
            inv.cancelled = True
        self._timer_at.pop(run.id, None)
        self._emit_run(run, "cancelled")
        return run

    def inject_failure(self, step_id: str, **kwargs: Any) -> str:
        """Fail the next attempts of a step (see `actions.inject_failure`)."""
        key = actions.inject_failure(
            self.store, step_id, known_functions=self.registry.functions, **kwargs
        )
        with self._failure_lock:
            self._failures = self.store.failures()
        return key

    def replay(self, run_id: str, from_step: str | None = None) -> RunRecord:
        """Queue a new run of the same event (from a step: earlier steps copied)."""
        run = actions.replay_run(self.store, run_id, from_step)
        self._emit_run(run, "queued", detail={"replay_of": run.replay_of})
        self._call_soon(self._enqueue, run.id)
        return run

    def set_step_mode(
        self, *, run_id: str | None = None, function_id: str | None = None, on: bool = True
    ) -> None:
        """Step through a run (or new runs of a function): pause before each step."""
        actions.set_step_mode(self.store, run_id=run_id, function_id=function_id, on=on)
        if run_id is not None and not on:
            self._resume_paused(run_id)

    def next_step(self, run_id: str) -> None:
        """In step mode: let exactly one more step attempt run."""
        run = actions.find_run(self.store, run_id)
        if run.finished:
            raise InputError(f"run {run.id} has already {run.status}")
        run.grants += 1
        if run.status == "paused":
            run.meta["resume"] = True
        self.store.save_run(run)
        if run.status == "paused":
            self._call_soon(self._enqueue, run.id)

    def _resume_paused(self, run_id: str) -> None:
        run = actions.find_run(self.store, run_id)
        if run.status == "paused":
            run.meta["resume"] = True
            self.store.save_run(run)
            self._call_soon(self._enqueue, run.id)

    def retry_now(self, run_id: str) -> None:
        """Skip a backoff or sleep wait: resume the run now."""
        run = actions.find_run(self.store, run_id)
        if run.status not in ("retrying", "sleeping", "waiting"):
            raise InputError(f"run {run.id} is {run.status}, not waiting for a timer")
        now = self.clock.now_ms()
        if run.status == "sleeping":
            for rec in self.store.load_steps(run.id):
                if rec.kind == "sleep" and rec.status != "completed":
                    rec.meta["until"] = now
                    self.store.save_step(rec)
        run.wake_at = now
        self.store.save_run(run)
        self._call_soon(self._set_timer, run.id, now)
        self._call_soon(self._poke)

    def continue_anyway(self, run_id: str) -> None:
        """After a code-change hold: go on with the new code, matching steps by id."""
        run = actions.find_run(self.store, run_id)
        run.meta["ignore_code_change"] = True
        run.meta.pop("code_change", None)
        run.meta["resume"] = True
        self.store.save_run(run)
        self._call_soon(self._enqueue, run.id)

    def swap_registry(self, registry: Registry) -> None:
        """Put new code live; runs paused for a missing function resume if it is back."""
        self.registry = registry
        for run in self.store.list_runs(status="paused"):
            if run.reason and run.reason.startswith("function ") and registry.get(run.function):
                run.meta["resume"] = True
                self.store.save_run(run)
                self._call_soon(self._enqueue, run.id)
        self.wake()


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
