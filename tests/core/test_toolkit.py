"""Step tools beyond step.run: sleep, wait_for_event, send_event, invoke, parallel."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta

import pytest

import durable_cli as durable
from durable_cli.engine import Engine, Registry, VirtualClock, run_detail


def _serve(engine: Engine, **kwargs) -> None:
    asyncio.run(engine.serve(until_idle=True, idle_wait=0, **kwargs))


def _by_function(store):
    return {r.function: run_detail(store, r.id) for r in store.list_runs()}


def test_sleep_survives_a_restart_and_fires_once(store):
    calls = []

    @durable.function(id="nap", trigger="go")
    def nap(event, step):
        step.run("before", lambda: calls.append("before"))
        step.sleep("wait-a-day", timedelta(days=1))
        step.run("after", lambda: calls.append("after"))

    clock = VirtualClock()
    start = clock.now_ms()
    first = Engine(store, Registry([nap]), clock=clock)
    first.send("go", {})
    # stop the first runner while the run sleeps (virtual time stops short of the wake-up)
    asyncio.run(first.serve(until_ms=start + 3_600_000))
    first.close()
    (run,) = store.list_runs()
    assert run.status == "sleeping" and run.wake_at >= start + 86_400_000
    second = Engine(store, Registry([nap]), clock=clock)
    _serve(second)
    second.close()
    detail = run_detail(store, run.id)
    assert detail["status"] == "completed"
    assert calls == ["before", "after"]
    assert clock.now_ms() - start >= 86_400_000


def test_sleep_until_a_datetime(harness):
    @durable.function(id="f", trigger="go")
    def f(event, step):
        step.sleep_until("until", datetime.now() + timedelta(hours=2))
        return "woke"

    harness.run(f, events=[("go", {})])
    (run,) = harness.runs()
    assert run_detail(harness.store, run.id)["output"] == "woke"


def _approval_flow():
    @durable.function(id="approval", trigger="order/placed")
    def approval(event, step):
        got = step.wait_for_event(
            "decision", event="order/decided", timeout=timedelta(days=3), match="data.order_id"
        )
        return None if got is None else got.data["verdict"]

    return approval


def test_wait_for_event_resumes_on_the_matching_event(store):
    fn = _approval_flow()
    clock = VirtualClock()
    engine = Engine(store, Registry([fn]), clock=clock)
    engine.send("order/placed", {"order_id": 1})
    engine.send("order/placed", {"order_id": 2})
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000))
    assert {r.status for r in store.list_runs()} == {"waiting"}
    engine.send("order/decided", {"order_id": 2, "verdict": "approved"})
    engine.send("order/decided", {"order_id": 99, "verdict": "ignored"})
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000, recover=False))
    outputs = {r.event["data"]["order_id"]: (r.status, r.output) for r in store.list_runs()}
    assert outputs == {1: ("waiting", None), 2: ("completed", "approved")}


def test_wait_for_event_times_out_with_none(harness):
    fn = _approval_flow()
    harness.run(fn, events=[("order/placed", {"order_id": 5})])
    (run,) = harness.runs()
    detail = run_detail(harness.store, run.id)
    assert detail["status"] == "completed" and detail["output"] is None
    step = detail["steps"][0]
    assert step["ended_at"] - step["started_at"] == 3 * 86_400_000


def test_an_event_sent_before_the_wait_does_not_count(store):
    fn = _approval_flow()
    clock = VirtualClock()
    engine = Engine(store, Registry([fn]), clock=clock)
    engine.send("order/decided", {"order_id": 7, "verdict": "too early"})
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 10))
    clock.advance(1)
    engine.send("order/placed", {"order_id": 7})
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 10, recover=False))
    (run,) = store.list_runs(function="approval")
    assert run.status == "waiting"


def test_send_event_is_memoized_across_replays(harness):
    received = []

    @durable.function(id="sender", trigger="go", retries=2, backoff=lambda n: 1)
    def sender(event, step):
        ids = step.send_event("notify", "user/notified", {"user": 1})
        step.run("flaky", lambda: (_ for _ in ()).throw(OSError("x")) if len(received) < 2 else 1)
        return ids

    @durable.function(id="receiver", trigger="user/notified")
    def receiver(event, step):
        received.append(event.data)

    harness.run(sender, receiver, events=[("go", {})])
    runs = _by_function(harness.store)
    assert runs["sender"]["status"] == "failed"  # flaky never passes: received stays at 1
    assert received == [{"user": 1}]
    assert runs["sender"]["steps"][1]["attempts"] == 3


def test_invoke_runs_a_child_and_links_both_ways(harness):
    @durable.function(id="child")
    def child(event, step):
        return step.run("square", lambda: event.data["n"] ** 2)

    @durable.function(id="broken-child")
    def broken(event, step):
        step.run("boom", lambda: (_ for _ in ()).throw(durable.NonRetriableError("nope")))

    @durable.function(id="parent", trigger="go")
    def parent(event, step):
        square = step.invoke("square-it", function=child, data={"n": 7})
        try:
            step.invoke("break-it", function="broken-child")
        except durable.StepError as err:
            return {"square": square, "child_error": err.message}
        return {"square": square}

    harness.run(parent, child, broken, events=[("go", {})])
    runs = _by_function(harness.store)
    assert runs["parent"]["output"]["square"] == 49
    assert "nope" in runs["parent"]["output"]["child_error"]
    assert runs["child"]["parent"] == {"run": runs["parent"]["id"], "step": "square-it"}
    assert set(runs["parent"]["children"]) == {runs["child"]["id"], runs["broken-child"]["id"]}


def test_parallel_in_a_sync_handler_runs_concurrently_and_retries_alone(harness):
    barrier = threading.Barrier(2, timeout=10)
    calls = {"a": 0, "b": 0}

    def a():
        calls["a"] += 1
        barrier.wait()  # only returns if b runs at the same time
        return "A"

    def b():
        calls["b"] += 1
        if calls["b"] == 1:
            barrier.wait()
            raise TimeoutError("slow")
        return "B"

    @durable.function(id="fan", trigger="go", backoff=lambda n: 5)
    def fan(event, step):
        return step.parallel([("a", a), ("b", b)])

    harness.run(fan, events=[("go", {})])
    (run,) = harness.runs()
    detail = run_detail(harness.store, run.id)
    assert detail["output"] == ["A", "B"]
    assert calls == {"a": 1, "b": 2}
    assert {s["id"]: s["attempts"] for s in detail["steps"]} == {"a": 1, "b": 2}


def test_parallel_in_an_async_handler(harness):
    async def double(x):
        await asyncio.sleep(0)
        return x * 2

    @durable.function(id="fan", trigger="go")
    async def fan(event, step):
        return await step.parallel([(f"chunk-{i}", double, i) for i in range(4)])

    harness.run(fan, events=[("go", {})])
    (run,) = harness.runs()
    assert run_detail(harness.store, run.id)["output"] == [0, 2, 4, 6]


@pytest.mark.parametrize("bad", [lambda s: s.sleep("x", "soon"), lambda s: s.run("", int)])
def test_bad_step_arguments_fail_the_run_with_a_clear_error(harness, bad):
    @durable.function(id="f", trigger="go", retries=0)
    def f(event, step):
        bad(step)

    harness.run(f, events=[("go", {})])
    (run,) = harness.runs()
    assert run.status == "failed"
    assert run.error["type"] == "TypeError"
