"""Step semantics: retries, failures, StepError, async handlers, loop ids, JSON round trip."""

from __future__ import annotations

import asyncio

import durable_cli as durable
from durable_cli.engine import run_detail


def _detail(harness):
    (run,) = harness.runs()
    return run_detail(harness.store, run.id)


def test_step_fails_twice_then_succeeds_earlier_steps_run_once(harness):
    calls = {"one": 0, "two": 0, "flaky": 0}

    def one():
        calls["one"] += 1
        return 1

    def two(x):
        calls["two"] += 1
        return x + 1

    def flaky(x):
        calls["flaky"] += 1
        if calls["flaky"] <= 2:
            raise ConnectionError(f"boom {calls['flaky']}")
        return x * 10

    @durable.function(id="f", trigger="go", retries=3, backoff=30)
    def f(event, step):
        a = step.run("one", one)
        b = step.run("two", two, a)
        return step.run("flaky", flaky, b)

    harness.run(f, events=[("go", {})])
    detail = _detail(harness)
    assert detail["status"] == "completed"
    assert detail["output"] == 20
    assert calls == {"one": 1, "two": 1, "flaky": 3}
    flaky_step = detail["steps"][2]
    assert flaky_step["attempts"] == 3
    log = flaky_step["attempt_log"]
    assert [a["error"]["message"] if a["error"] else None for a in log] == [
        "boom 1",
        "boom 2",
        None,
    ]
    # exponential backoff on virtual time: ~30 s then ~60 s (±20% jitter)
    gap1 = log[1]["started_at"] - log[0]["ended_at"]
    gap2 = log[2]["started_at"] - log[1]["ended_at"]
    assert 24_000 <= gap1 <= 36_000
    assert 48_000 <= gap2 <= 72_000


def test_exhausted_retries_fail_the_run_with_the_error_kept(harness):
    @durable.function(id="f", trigger="go", retries=2, backoff=lambda n: 1)
    def f(event, step):
        step.run("bad", lambda: (_ for _ in ()).throw(ValueError("nope")))

    harness.run(f, events=[("go", {})])
    detail = _detail(harness)
    assert detail["status"] == "failed"
    assert detail["steps"][0]["attempts"] == 3
    assert detail["steps"][0]["status"] == "failed"
    assert detail["steps"][0]["error"]["type"] == "ValueError"
    assert detail["error"]["type"] == "StepError"
    assert detail["error"]["cause"] == {"type": "ValueError", "message": "nope"}
    assert "ValueError: nope" in detail["error"]["traceback"]


def test_handler_catching_step_error_runs_a_compensating_step(harness):
    refunds = []

    def charge():
        raise durable.NonRetriableError("card declined")

    @durable.function(id="saga", trigger="go", retries=5)
    def saga(event, step):
        try:
            step.run("charge", charge)
        except durable.StepError as err:
            message = err.message
            step.run("refund", lambda: refunds.append(message) or "refunded")
            return {"compensated": err.step_id}
        return {"ok": True}

    harness.run(saga, events=[("go", {})])
    detail = _detail(harness)
    assert detail["status"] == "completed"
    assert detail["output"] == {"compensated": "charge"}
    assert detail["steps"][0]["attempts"] == 1  # NonRetriableError: no retry
    assert refunds == ["card declined"]


def test_retry_after_error_sets_the_delay(harness):
    attempts = []

    def limited():
        attempts.append(1)
        if len(attempts) == 1:
            raise durable.RetryAfterError(120, "rate limited")
        return "ok"

    @durable.function(id="f", trigger="go", backoff=1)
    def f(event, step):
        return step.run("call", limited)

    harness.run(f, events=[("go", {})])
    log = _detail(harness)["steps"][0]["attempt_log"]
    assert log[1]["started_at"] - log[0]["ended_at"] == 120_000


def test_per_step_retries_override(harness):
    @durable.function(id="f", trigger="go", retries=5, backoff=lambda n: 0.1)
    def f(event, step):
        step.run("once", lambda: 1 / 0, retries=0)

    harness.run(f, events=[("go", {})])
    detail = _detail(harness)
    assert detail["steps"][0]["attempts"] == 1
    assert detail["status"] == "failed"


def test_unstorable_output_fails_once_naming_step_and_type(harness):
    @durable.function(id="f", trigger="go", retries=3)
    def f(event, step):
        step.run("make-set", lambda: {1, 2})

    harness.run(f, events=[("go", {})])
    step = _detail(harness)["steps"][0]
    assert step["attempts"] == 1
    assert step["status"] == "failed"
    assert "make-set" in step["error"]["message"]
    assert "set" in step["error"]["message"]


def test_a_value_that_contains_itself_is_unstorable_not_a_crash(harness):
    def loop():
        value: dict = {"n": 1}
        value["self"] = value
        return value

    @durable.function(id="f", trigger="go", retries=3)
    def f(event, step):
        step.run("cycle", loop)

    harness.run(f, events=[("go", {})])
    detail = _detail(harness)
    (step,) = detail["steps"]
    assert (step["attempts"], step["status"], detail["status"]) == (1, "failed", "failed")
    assert "cycle" in step["error"]["message"] and "Circular" in step["error"]["message"]


def test_json_round_trip_is_what_the_handler_gets(harness):
    seen = []

    @durable.function(id="f", trigger="go")
    def f(event, step):
        seen.append(step.run("pair", lambda: (1, 2)))
        return seen[-1]

    harness.run(f, events=[("go", {})])
    assert seen == [[1, 2]]


def test_loop_step_ids_are_numbered_by_call_order(harness):
    @durable.function(id="f", trigger="go")
    def f(event, step):
        return [step.run("item", lambda i=i: i * i) for i in range(4)]

    harness.run(f, events=[("go", {})])
    detail = _detail(harness)
    assert [s["id"] for s in detail["steps"]] == ["item", "item:1", "item:2", "item:3"]
    assert detail["output"] == [0, 1, 4, 9]


def test_async_handler_with_sync_and_async_callables(harness):
    calls = []

    async def fetch(x):
        await asyncio.sleep(0)
        calls.append(("fetch", x))
        return x + 1

    def compute(x):
        calls.append(("compute", x))
        return x * 2

    @durable.function(id="af", trigger="go", backoff=lambda n: 1)
    async def af(event, step):
        a = await step.run("fetch", fetch, event.data["x"])
        b = await step.run("compute", compute, a)
        c, d = await asyncio.gather(step.run("p", compute, 1), step.run("p", compute, 2))
        return [a, b, c, d]

    harness.run(af, events=[("go", {"x": 1})])
    detail = _detail(harness)
    assert detail["output"] == [2, 4, 2, 4]
    assert [s["id"] for s in detail["steps"]][:2] == ["fetch", "compute"]
    assert {s["id"] for s in detail["steps"]} == {"fetch", "compute", "p", "p:1"}


def test_sync_handler_with_async_callable(harness):
    async def fetch():
        await asyncio.sleep(0)
        return "fetched"

    @durable.function(id="f", trigger="go")
    def f(event, step):
        return step.run("fetch", fetch)

    harness.run(f, events=[("go", {})])
    assert _detail(harness)["output"] == "fetched"


def test_event_reaches_handler(harness):
    got = []

    @durable.function(id="f", trigger=["a", "b"])
    def f(event, step):
        got.append((event.name, event.data, bool(event.id), event.ts > 0))

    harness.run(f, events=[("a", {"k": 1}), ("b", {"k": 2}), ("c", {})])
    assert sorted(got) == [("a", {"k": 1}, True, True), ("b", {"k": 2}, True, True)]
