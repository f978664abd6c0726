"""Two engines on one state, each with its own store object (as two worker processes would),
in real (wall-clock) time: the lease logic under test. The scenarios take the two store objects,
so the embedded store (tests/core/test_two_engines.py) and PostgreSQL
(tests/store/test_pg_engines.py) run the same code."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import durable_cli as durable
from durable_cli.engine import Change, Engine, Registry, VirtualClock, WallClock
from durable_cli.store import Store

__all__ = [
    "LEASE_S",
    "SCENARIOS",
    "Pair",
    "a_child_ending_on_the_other_engine_wakes_its_parent",
    "a_concurrency_key_of_one_holds_across_engines",
    "a_cron_tick_fires_once",
    "a_paused_engine_loses_its_run_and_its_late_write_is_refused",
    "a_timer_fires_once",
    "each_run_executes_on_one_engine_and_each_step_once",
    "engines",
    "finished",
    "serve_both",
    "two_stores",
]

LEASE_S = 0.4
Pair = tuple[Store, Store]


@contextlib.contextmanager
def two_stores(open_one: Callable[[], Store]) -> Iterator[Pair]:
    """Two store objects on one state, each from `open_one()`: one per engine; closed after."""
    first = open_one()
    second = open_one()
    try:
        yield first, second
    finally:
        first.close()
        second.close()


async def serve_both(a: Engine, b: Engine, until: Any, timeout: float = 30.0) -> None:
    """Serve both engines until `until()` holds (polled), then stop them."""
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(e.serve(stop=stop)) for e in (a, b)]
    deadline = time.monotonic() + timeout
    try:
        while not until():
            assert time.monotonic() < deadline, "timed out"
            for task in tasks:
                if task.done():
                    task.result()  # an engine that died raises here
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def finished(store: Store, n: int) -> bool:
    """Whether `n` runs (or more) exist and all of them finished."""
    runs = list(store.list_runs())
    return len(runs) >= n and all(r.finished for r in runs)


def engines(stores: Pair, *fns: Any, **kw: Any) -> list[Engine]:
    """One engine per store object, on wall-clock time with a short lease."""
    return [
        Engine(st, Registry(list(fns)), clock=WallClock(), lease_s=LEASE_S, **kw) for st in stores
    ]


def each_run_executes_on_one_engine_and_each_step_once(stores: Pair) -> None:
    """40 three-step runs on two engines: each step ran once, every run completed."""
    calls: list[tuple[str, str, str]] = []
    lock = threading.Lock()

    def work(run_id: str, name: str) -> str:
        time.sleep(0.002)  # long enough for the two engines to overlap
        with lock:
            calls.append((run_id, name, threading.current_thread().name))
        return name

    @durable.function(id="three-steps", trigger="go")
    def three(event, step):
        return [step.run(n, work, event.data["i"], n) for n in ("a", "b", "c")]

    a, b = engines(stores, three, concurrency=4)
    for i in range(40):
        a.send("go", {"i": i})
    asyncio.run(serve_both(a, b, lambda: finished(stores[0], 40)))
    a.close()
    b.close()

    assert Counter((run, name) for run, name, _ in calls) == {
        (i, n): 1 for i in range(40) for n in ("a", "b", "c")
    }
    runs = list(stores[0].list_runs())
    assert [r.status for r in runs] == ["completed"] * 40
    assert {r.owner for r in runs} == {None}, "a finished run belongs to no runner"


def a_paused_engine_loses_its_run_and_its_late_write_is_refused(stores: Pair) -> None:
    """An engine frozen past its lease: the other takes its run over; its late write is
    refused and it carries on under a new lease."""
    release = threading.Event()
    started = threading.Event()
    attempts: list[str] = []

    def slow(tag: str) -> str:
        attempts.append(tag)
        if len(attempts) == 1:  # the first engine's call: frozen past its lease
            started.set()
            release.wait(30)
            return "late"
        return "fresh"

    @durable.function(id="one-step", trigger="go")
    def one(event, step):
        return step.run("slow", slow, "x")

    a, b = engines(stores, one)
    changes: list[Change] = []
    a.add_listener(changes.append)

    async def scenario() -> None:
        stop = asyncio.Event()
        task_a = asyncio.ensure_future(a.serve(stop=stop))
        a.send("go", {})
        while not started.is_set():
            await asyncio.sleep(0.01)
        first_owner = a.lease.runner_id
        a.lease.paused = True  # the process is frozen: it renews nothing
        paused_at = time.monotonic()
        task_b = asyncio.ensure_future(b.serve(stop=stop))
        while not finished(stores[1], 1):
            assert time.monotonic() - paused_at < LEASE_S * 5 + 5, "no takeover"
            await asyncio.sleep(0.01)
        taken_after = time.monotonic() - paused_at
        release.set()  # the frozen engine wakes and tries to journal its step
        while not any(c.kind == "error" and "lease lost" in (c.error or "") for c in changes):
            assert time.monotonic() - paused_at < 30, "the late write was not refused"
            await asyncio.sleep(0.01)
        a.lease.paused = False
        while a.lease.runner_id in (None, first_owner):  # it carries on under a new lease
            assert time.monotonic() - paused_at < 30
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.gather(task_a, task_b)
        # taken over within the lease plus the renewal and poll that notice it
        assert taken_after < LEASE_S + 2.5

    asyncio.run(scenario())
    a.close()
    b.close()
    (run,) = stores[0].list_runs()
    assert run.status == "completed"
    assert run.output == "fresh"
    (step,) = stores[0].load_steps(run.id)
    assert step.output == "fresh"
    assert attempts == ["x", "x"]


def a_timer_fires_once(stores: Pair) -> None:
    """Sleeps and retry backoffs on two engines: each fires once."""
    after_sleep: list[int] = []
    tries: Counter[int] = Counter()

    def flaky(i: int) -> int:
        tries[i] += 1
        if tries[i] == 1:
            raise RuntimeError("first attempt fails")
        return i

    @durable.function(id="nap", trigger="go", backoff=0.05)
    def nap(event, step):
        i = event.data["i"]
        step.sleep("nap", 0.2)
        step.run("flaky", flaky, i)
        step.run("after", after_sleep.append, i)

    a, b = engines(stores, nap, concurrency=4)
    for i in range(12):
        (a if i % 2 else b).send("go", {"i": i})
    asyncio.run(serve_both(a, b, lambda: finished(stores[0], 12)))
    a.close()
    b.close()
    assert sorted(after_sleep) == list(range(12))
    assert tries == {i: 2 for i in range(12)}


def a_concurrency_key_of_one_holds_across_engines(stores: Pair) -> None:
    """A concurrency key of 1: never two runs at once, across both engines."""
    active, peak = [0], [0]
    lock = threading.Lock()

    def hold() -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1

    @durable.function(id="serial", trigger="go", concurrency=1)
    def serial(event, step):
        step.run("hold", hold)
        step.run("again", hold)

    a, b = engines(stores, serial, concurrency=8)
    for _ in range(12):
        a.send("go", {})
    asyncio.run(serve_both(a, b, lambda: finished(stores[0], 12)))
    a.close()
    b.close()
    assert peak[0] == 1
    assert [r.status for r in stores[0].list_runs()] == ["completed"] * 12


def a_cron_tick_fires_once(stores: Pair) -> None:
    """Both engines fire the same cron tick at once: one run."""

    @durable.function(id="minutely", cron="* * * * *")
    def minutely(event, step):
        return event.data["scheduled_at"]

    clock = VirtualClock(start_ms=1_700_000_000_000)
    a, b = (Engine(st, Registry([minutely]), clock=clock) for st in stores)
    a.cron.arm_all(catch_up=False)
    b.cron.arm_all(catch_up=False)
    clock.advance(61_000)
    barrier = threading.Barrier(2)

    def fire(engine: Engine) -> None:
        barrier.wait()
        engine.cron.fire("minutely")

    threads = [threading.Thread(target=fire, args=(e,)) for e in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    runs = list(stores[0].list_runs())
    assert len(runs) == 1
    assert runs[0].event["data"]["scheduled_at"] == 1_700_000_040_000


def a_child_ending_on_the_other_engine_wakes_its_parent(stores: Pair) -> None:
    """A child run (`step.invoke`) that ends on the other engine while its parent is still in
    flight here, between creating it and unwinding: the parent is woken and completes."""
    kid_ran: list[str] = []

    @durable.function(id="kid", trigger="kid/go")
    def kid(event, step):
        return step.run("play", lambda: kid_ran.append(threading.current_thread().name) or 7)

    @durable.function(id="parent", trigger="parent/go")
    def parent(event, step):
        return step.invoke("call-kid", function=kid)

    # one run at a time on `a`: while the parent holds its only slot, the child is `b`'s
    a, b = engines(stores, parent, kid, concurrency=1)
    b_engine = b
    start_child = a.start_child

    def start_child_then_let_it_end(*args: Any) -> None:
        start_child(*args)
        child_id = args[1].meta["child"]
        b_engine.enqueue(child_id)  # as a worker woken by the new run would take it

        def ended_on_b() -> bool:
            child = stores[0].get_run(child_id)
            return child is not None and child.finished and child_id not in b_engine.schedule.active

        deadline = time.monotonic() + 30
        while not ended_on_b():  # on the parent's worker thread, before it unwinds
            assert time.monotonic() < deadline, "the child did not end on the other engine"
            time.sleep(0.01)

    a.start_child = start_child_then_let_it_end  # type: ignore[method-assign]
    a.send("parent/go")
    asyncio.run(serve_both(a, b, lambda: finished(stores[0], 2)))
    a.close()
    b.close()

    (run,) = stores[0].list_runs(function="parent")
    assert (run.status, run.output) == ("completed", 7)
    assert len(kid_ran) == 1, "the child's step ran once"


SCENARIOS = [
    each_run_executes_on_one_engine_and_each_step_once,
    a_paused_engine_loses_its_run_and_its_late_write_is_refused,
    a_timer_fires_once,
    a_concurrency_key_of_one_holds_across_engines,
    a_cron_tick_fires_once,
    a_child_ending_on_the_other_engine_wakes_its_parent,
]
