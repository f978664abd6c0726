"""Function options: on_failure, cancel_on, idempotency, concurrency, throttle, rate_limit,
debounce, timeouts, priority, cron."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from datetime import timedelta

import pytest

import durable_cli as durable
from durable_cli.engine import Engine, Registry, VirtualClock, WallClock


def _runs(store, function=None):
    return list(reversed(list(store.list_runs(function=function))))


def test_on_failure_gets_the_failed_runs_event_and_error(harness):
    seen = []

    def cleanup(event, step):
        seen.append((event.name, event.data["event"]["data"], event.data["error"]["type"]))

    @durable.function(id="f", trigger="go", retries=0, on_failure=cleanup)
    def f(event, step):
        step.run("boom", lambda: 1 / 0)

    harness.run(f, events=[("go", {"k": 1})])
    runs = {r.function: r for r in _runs(harness.store)}
    assert runs["f"].status == "failed"
    assert runs["f-failure"].status == "completed"
    assert seen == [("durable/function.failed", {"k": 1}, "StepError")]


def _reminder():
    """A run that sleeps an hour unless its cart is checked out."""

    @durable.function(
        id="reminder",
        trigger="cart/abandoned",
        cancel_on=[{"event": "cart/checked-out", "match": "data.cart"}],
    )
    def reminder(event, step):
        step.sleep("wait", timedelta(hours=1))
        return "reminded"

    return reminder


def test_cancel_on_cancels_the_matching_run_only(store):
    reminder = _reminder()
    clock = VirtualClock()
    engine = Engine(store, Registry([reminder]), clock=clock)
    engine.send("cart/abandoned", {"cart": "a"})
    engine.send("cart/abandoned", {"cart": "b"})
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000))
    engine.send("cart/checked-out", {"cart": "a"})
    asyncio.run(engine.serve(until_idle=True, idle_wait=0, recover=False))
    status = {r.event["data"]["cart"]: r.status for r in store.list_runs()}
    assert status == {"a": "cancelled", "b": "completed"}


def test_a_cancelling_event_claimed_with_the_run_it_cancels_still_cancels_it(store):
    reminder = _reminder()
    engine = Engine(store, Registry([reminder]), clock=VirtualClock())
    for cart in ("a", "b"):
        engine.send("cart/abandoned", {"cart": cart})
    engine.send("cart/checked-out", {"cart": "a"})  # queued with them: one claim takes all three
    asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    status = {r.event["data"]["cart"]: r.status for r in store.list_runs()}
    assert status == {"a": "cancelled", "b": "completed"}


def test_idempotency_gives_one_run_per_key(harness):
    @durable.function(id="welcome", trigger="user/signed-up", idempotency="event.data.user_id")
    def welcome(event, step):
        return event.data["user_id"]

    events = [("user/signed-up", {"user_id": u}) for u in (1, 1, 2, 1, 2)]
    harness.run(welcome, events=events)
    assert sorted(r.output for r in _runs(harness.store)) == [1, 2]


def test_concurrency_one_never_runs_two_at_once(store):
    log: list[tuple[str, int]] = []
    lock = threading.Lock()
    active = [0]

    def work(i):
        with lock:
            active[0] += 1
            log.append(("start", active[0]))
        time.sleep(0.01)  # a step that takes a moment, so overlaps would show
        with lock:
            active[0] -= 1
        return i

    @durable.function(id="serial", trigger="go", concurrency=1)
    def serial(event, step):
        a = step.run("one", work, 1)
        return step.run("two", work, a)

    engine = Engine(store, Registry([serial]), clock=WallClock(), concurrency=8)
    for _ in range(6):
        engine.send("go", {})
    asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    engine.close()
    assert [r.status for r in store.list_runs()] == ["completed"] * 6
    assert len(log) == 12
    assert max(depth for _, depth in log) == 1


def test_concurrency_key_limits_per_key(store):
    peak: dict[str, int] = {}
    active: dict[str, int] = {}
    lock = threading.Lock()
    gate = threading.Event()

    def work(user):
        with lock:
            active[user] = active.get(user, 0) + 1
            peak[user] = max(peak.get(user, 0), active[user])
        gate.wait(0.05)
        with lock:
            active[user] -= 1

    @durable.function(
        id="per-user", trigger="go", concurrency={"limit": 1, "key": "event.data.user"}
    )
    def per_user(event, step):
        step.run("work", work, event.data["user"])

    engine = Engine(store, Registry([per_user]), concurrency=8)
    for user in ("a", "a", "a", "b", "b", "b"):
        engine.send("go", {"user": user})
    asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    engine.close()
    assert peak == {"a": 1, "b": 1}


def test_debounce_collapses_a_burst_into_one_run_with_the_last_event(store):
    @durable.function(id="reindex", trigger="doc/edited", debounce=timedelta(minutes=5))
    def reindex(event, step):
        return event.data["rev"]

    clock = VirtualClock()
    engine = Engine(store, Registry([reindex]), clock=clock)
    for rev in range(5):
        engine.send("doc/edited", {"rev": rev})
        asyncio.run(engine.serve(until_ms=clock.now_ms() + 60_000, recover=rev == 0))
        clock.advance(60_000)
    asyncio.run(engine.serve(until_idle=True, idle_wait=0, recover=False))
    runs = _runs(store)
    assert [r.output for r in runs] == [4]


def test_rate_limit_drops_and_throttle_delays(harness):
    @durable.function(id="limited", trigger="go", rate_limit={"limit": 2, "period": 60})
    def limited(event, step):
        return "ran"

    @durable.function(id="throttled", trigger="go", throttle={"limit": 1, "period": 60})
    def throttled(event, step):
        return "ran"

    harness.run(limited, throttled, events=[("go", {})] * 4)
    assert len(_runs(harness.store, "limited")) == 2
    throttled_runs = _runs(harness.store, "throttled")
    assert [r.status for r in throttled_runs] == ["completed"] * 4
    starts = sorted(r.started_at for r in throttled_runs)
    assert all(b - a >= 60_000 for a, b in itertools.pairwise(starts))


def test_finish_timeout_cancels_a_run_that_takes_too_long(harness):
    @durable.function(id="slow", trigger="go", timeouts={"finish": 60})
    def slow(event, step):
        step.sleep("long", 3600)

    harness.run(slow, events=[("go", {})])
    (run,) = _runs(harness.store)
    assert run.status == "cancelled"
    assert "did not finish within 60" in run.reason


def test_priority_picks_the_higher_run_first(store):
    order = []

    @durable.function(id="jobs", trigger="go", priority=lambda e: e.data["p"], concurrency=1)
    def jobs(event, step):
        order.append(event.data["p"])

    engine = Engine(store, Registry([jobs]), clock=VirtualClock(), concurrency=1)
    for p in (1, 5, 3):
        engine.send("go", {"p": p})
    asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    assert order == [5, 3, 1]


def test_cron_fires_on_virtual_time(store):
    ticks = []

    @durable.function(id="every-5", cron="*/5 * * * *")
    def every_5(event, step):
        ticks.append(event.data["scheduled_at"])

    clock = VirtualClock(start_ms=1_700_000_000_000)  # 22:13:20 UTC
    engine = Engine(store, Registry([every_5]), clock=clock)
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 20 * 60_000))
    assert len(ticks) == 4
    assert all(t % 300_000 == 0 for t in ticks)


def test_cron_after_downtime_runs_once_for_the_missed_ticks(store):
    @durable.function(id="hourly", cron="0 * * * *")
    def hourly(event, step):
        return event.data["skipped_ticks"]

    clock = VirtualClock(start_ms=1_700_000_000_000)
    engine = Engine(store, Registry([hourly]), clock=clock)
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 3_600_000))
    assert len(_runs(store)) == 1
    clock.advance(10 * 3_600_000)  # the laptop slept for ten hours
    again = Engine(store, Registry([hourly]), clock=clock)
    asyncio.run(again.serve(until_ms=clock.now_ms() + 1000))
    runs = _runs(store)
    assert len(runs) == 2
    assert runs[1].output == 9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cron": "every tuesday"}, "cron"),
        ({"concurrency": 0}, "concurrency"),
        ({"debounce": -1}, "debounce"),
        ({"idempotency": "data.user"}, "idempotency"),
        ({"timeouts": {"start": 1, "eventually": 2}}, "timeouts"),
        ({"throttle": {"limit": 1}}, "throttle period"),
    ],
)
def test_bad_options_are_clear_errors(kwargs, message):
    with pytest.raises(TypeError, match=message):
        durable.function(id="x", trigger="go", **kwargs)
