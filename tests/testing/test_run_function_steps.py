"""run_function: stubs, spies, StepError, async handlers, loops, sleeps, waits and invoke."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta
from typing import Any

import pytest

import durable_cli as durable
from durable_cli.testing import RunResult, run_function

CALLS: list[tuple[str, tuple[Any, ...]]] = []


def record(name: str) -> Any:
    def callable_(*args: Any, **kwargs: Any) -> Any:
        CALLS.append((name, args))
        return {"from": name, "args": list(args), "kwargs": kwargs}

    callable_.__name__ = name
    return callable_


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    CALLS.clear()


@durable.function(id="charge", trigger="shop/order.placed", retries=2, backoff=1)
def charge(event: durable.Event, step: durable.Step) -> Any:
    card = step.run("load-card", record("load-card"), event.data["user"])
    receipt = step.run("charge-card", record("charge-card"), card["args"][0], amount=42)
    return {"card": card["from"], "receipt": receipt}


def test_a_stub_returns_its_value_and_never_calls_the_callable() -> None:
    result = run_function(charge, {"user": "u1"}, stub={"charge-card": {"id": "ch_1"}})

    assert result.status == "completed"
    assert result.output == {"card": "load-card", "receipt": {"id": "ch_1"}}
    assert [name for name, _ in CALLS] == ["load-card"]
    assert result.steps["charge-card"].calls == 0
    assert result.steps["charge-card"].attempts == 1
    assert result.steps["charge-card"].attempt_log[0].action == "stub"
    assert result.steps["load-card"].calls == 1


def test_a_callable_stub_is_a_spy_that_sees_the_step_arguments() -> None:
    seen: list[tuple[Any, ...]] = []

    def spy(*args: Any, **kwargs: Any) -> list[Any]:
        seen.append((args, kwargs))
        return ("tuple", "comes back as a list")  # type: ignore[return-value]

    result = run_function(charge, {"user": "u9"}, stub={"charge-card": spy})

    assert seen == [(("u9",), {"amount": 42})]
    assert result.steps["charge-card"].calls == 0
    # the handler got the JSON round trip, exactly as from a real step
    assert result.output["receipt"] == ["tuple", "comes back as a list"]
    assert result.steps["charge-card"].output == ["tuple", "comes back as a list"]


def test_failures_then_a_stub_on_one_step() -> None:
    result = run_function(charge, {"user": "u1"}, fail={"charge-card": 1}, stub={"charge-card": 7})

    step = result.steps["charge-card"]
    assert [a.action for a in step.attempt_log] == ["fail", "stub"]
    assert step.output == 7
    assert not [c for c in CALLS if c[0] == "charge-card"]


def test_step_error_is_caught_by_the_handler() -> None:
    @durable.function(id="fallback", retries=1, backoff=1)
    def fallback(event: durable.Event, step: durable.Step) -> Any:
        try:
            return step.run("primary", record("primary"))
        except durable.StepError as exc:
            return step.run("secondary", record("secondary"), exc.step_id, exc.error_type)

    result = run_function(fallback, fail={"primary": ConnectionError("down")})

    assert result.status == "completed"
    assert result.step_ids == ["primary", "secondary"]
    assert result.steps["primary"].status == "failed"
    assert result.steps["primary"].attempts == 2
    assert result.output["args"] == ["primary", "ConnectionError"]


@durable.function(id="async-flow", retries=3, backoff=5)
async def async_flow(event: durable.Event, step: durable.AsyncStep) -> Any:
    async def fetch(n: int) -> int:
        await asyncio.sleep(0)
        return n + 1

    a = await step.run("fetch", fetch, event.data["n"])
    b = await step.run("sync-in-async", record("sync-in-async"), a)
    c = await step.run("spied", fetch, b["args"][0])
    return [a, b["from"], c]


def test_async_handlers_with_failures_and_spies() -> None:
    seen: list[int] = []

    async def async_spy(n: int) -> int:
        seen.append(n)
        return 100

    result = run_function(async_flow, {"n": 1}, fail={"fetch": 2}, stub={"spied": async_spy})

    assert result.status == "completed"
    assert result.output == [2, "sync-in-async", 100]
    assert seen == [2]
    assert (result.steps["fetch"].attempts, result.steps["fetch"].calls) == (3, 1)
    assert result.steps["spied"].calls == 0


@durable.function(id="loop")
def loop(event: durable.Event, step: durable.Step) -> list[Any]:
    return [step.run("item", record("item"), i)["args"][0] for i in range(3)]


def test_loop_step_ids_and_targeting_one_iteration() -> None:
    result = run_function(loop, fail={"item:1": 2})

    assert result.step_ids == ["item", "item:1", "item:2"]
    assert [result.steps[s].attempts for s in result.step_ids] == [1, 3, 1]
    assert result.output == [0, 1, 2]


def test_a_base_id_applies_to_every_iteration() -> None:
    result = run_function(loop, stub={"item": {"args": ["stubbed"]}, "item:2": {"args": [2]}})

    assert result.output == ["stubbed", "stubbed", 2]
    assert CALLS == []


def test_sleeps_and_wait_timeouts_take_virtual_time() -> None:
    @durable.function(id="patient")
    def patient(event: durable.Event, step: durable.Step) -> Any:
        step.sleep("a-day", timedelta(days=1))
        step.sleep_until("new-year", datetime(2031, 1, 1))
        return step.wait_for_event("approval", event="test/approved", timeout=3600)

    start = datetime(2030, 6, 1)
    result = run_function(patient, start_at=start)

    assert result.status == "completed"
    assert result.output is None  # the wait timed out
    assert result.steps["a-day"].ended_at - result.steps["a-day"].started_at == 86_400_000
    assert result.steps["new-year"].ended_at == int(datetime(2031, 1, 1).timestamp() * 1000)
    assert result.steps["approval"].kind == "wait"
    assert result.ended_at == result.steps["new-year"].ended_at + 3_600_000


@durable.function(id="review", trigger="doc/submitted")
def review(event: durable.Event, step: durable.Step) -> list[Any]:
    answers = []
    for _ in range(2):
        got = step.wait_for_event(
            "approval", event="doc/approved", timeout=timedelta(days=3), match="data.doc"
        )
        answers.append(got.data["by"] if got else None)
    return answers


def test_events_answer_waits_in_order_and_none_lets_one_time_out() -> None:
    result = run_function(
        review, {"doc": "d1"}, events={"doc/approved": [{"doc": "d1", "by": "ann"}, None]}
    )

    assert result.status == "completed"
    assert result.output == ["ann", None]
    assert result.steps["approval"].output["data"] == {"doc": "d1", "by": "ann"}
    # the first answer came at once; the second wait ran to its 3-day timeout in virtual time
    assert result.steps["approval"].ended_at == result.steps["approval"].started_at
    assert result.duration_ms == 3 * 86_400_000


def test_an_event_that_does_not_match_leaves_the_wait_to_time_out() -> None:
    with pytest.warns(UserWarning, match="no wait_for_event used"):
        result = run_function(
            review, {"doc": "d1"}, events={"doc/approved": [{"doc": "other", "by": "bob"}] * 3}
        )

    assert result.output == [None, None]


def test_invoke_runs_a_child_function_given_in_functions() -> None:
    @durable.function(id="child", retries=1, backoff=1)
    def child(event: durable.Event, step: durable.Step) -> int:
        return step.run("work", lambda n: n * 10, event.data["n"])

    @durable.function(id="parent")
    def parent(event: durable.Event, step: durable.Step) -> int:
        return step.invoke("call-child", function=child, data={"n": 4})

    result = run_function(parent, functions=[child])

    assert result.status == "completed"
    assert result.output == 40
    assert result.steps["call-child"].kind == "invoke"
    (kid,) = result.children
    assert (kid.function, kid.status, kid.steps["work"].calls) == ("child", "completed", 1)


def test_event_name_data_and_repr() -> None:
    result = run_function(charge, event={"name": "shop/order.placed", "data": {"user": "u3"}})

    assert isinstance(result, RunResult)
    assert result.event.name == "shop/order.placed"
    assert result.event.data == {"user": "u3"}
    text = repr(result)
    assert "'charge'" in text and "status='completed'" in text and "charge-card ok" in text
    assert "status='completed'" in repr(result.steps["load-card"])
    assert "load-card" in result.timeline() and "run completed" in result.timeline()


async def test_works_from_inside_a_running_event_loop() -> None:
    result = run_function(async_flow, {"n": 5})

    assert result.output == [6, "sync-in-async", 7]


def test_a_run_that_never_ends_times_out_with_its_latest_steps() -> None:
    @durable.function(id="forever")
    def forever(event: durable.Event, step: durable.Step) -> None:
        # more steps than the message shows in the first call already: how many ticks a loaded
        # machine makes before the timeout does not matter
        for _ in range(40):
            step.run("warm-up", lambda: None)
        while True:
            step.sleep("tick", 60)

    with pytest.raises(TimeoutError) as caught:
        run_function(forever, timeout=1.5)

    message = str(caught.value)
    assert "'forever' did not finish within 1.5s of wall time" in message
    assert "earlier lines" in message
    assert len(message.splitlines()) <= 34
    *_, last_step, end = message.splitlines()
    # where the timeout caught the run varies; that it shows the latest ticks does not
    assert "tick:" in last_step and "[sleep" in last_step
    assert end.strip() in ("run running", "run sleeping")


def test_state_dir_keeps_the_journal(tmp_path) -> None:
    from durable_cli.engine import run_detail
    from durable_cli.store import open_store

    result = run_function(charge, {"user": "u1"}, fail={"load-card": 1}, state_dir=tmp_path / "s")

    store = open_store(str(tmp_path / "s"), create=False)
    try:
        detail = run_detail(store, result.id)
    finally:
        store.close()
    assert [(s["id"], s["attempts"]) for s in detail["steps"]] == [
        ("load-card", 2),
        ("charge-card", 1),
    ]


def test_a_state_dir_that_holds_something_is_refused(tmp_path) -> None:
    (tmp_path / "old.txt").write_text("x")

    with pytest.raises(ValueError, match="not empty"):
        run_function(charge, {"user": "u1"}, state_dir=tmp_path)
    assert CALLS == []
    assert os.listdir(tmp_path) == ["old.txt"]


def test_an_unused_key_warns_about_a_likely_typo() -> None:
    with pytest.warns(UserWarning, match="no step 'charge-crad' ran"):
        run_function(charge, {"user": "u1"}, stub={"charge-crad": 1})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fail": {"load-card": "boom"}}, "expected a number of attempts"),
        ({"fail": {"load-card": -1}}, ">= 0"),
        ({"fail": {"load-card": [1]}}, r"fail\['load-card'\]\[0\]: expected an exception"),
        ({"fail": {"load-card": durable.RetryAfterError}}, "pass an instance"),
        ({"stub": ["load-card"]}, "must be a dict"),
        ({"event": 3}, "event= must be"),
        ({"event": {"nam": "x"}}, "unknown keys: nam"),
        ({"event": {"data": {"a": 1}}, "data": {"b": 2}}, "once"),
        ({"timeout": 0}, "positive"),
        ({"events": {"doc/approved": "yes"}}, "expected the event's data"),
        ({"start_at": 5}, "datetime"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(kwargs: Any, message: str) -> None:
    kwargs.setdefault("data", {"user": "u1"})
    with pytest.raises(TypeError, match=message):
        run_function(charge, **kwargs)
    assert CALLS == []


def test_a_plain_handler_is_refused() -> None:
    with pytest.raises(TypeError, match=r"decorated with @durable\.function"):
        run_function(lambda event, step: None)  # type: ignore[arg-type]
