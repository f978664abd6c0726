"""run_function: retries, backoff and injected failures in virtual time."""

from __future__ import annotations

import itertools

import durable_cli as durable
from durable_cli.testing import run_function


def double(x: int) -> int:
    return x * 2


def make_flow(retries: int = 4, backoff: object = 30) -> durable.Function:
    @durable.function(id="flow", trigger="test/flow", retries=retries, backoff=backoff)
    def flow(event: durable.Event, step: durable.Step) -> int:
        a = step.run("first", double, event.data["x"])
        return step.run("second", double, a)

    return flow


def gaps_ms(step: object) -> list[int]:
    """Virtual time between one attempt's end and the next one's start."""
    log = step.attempt_log  # type: ignore[attr-defined]
    return [b.started_at - a.ended_at for a, b in itertools.pairwise(log)]


def test_two_failures_with_30s_backoff_retry_in_virtual_time() -> None:
    result = run_function(make_flow(backoff=30), {"x": 5}, fail={"second": 2})

    assert result.status == "completed"
    assert result.output == 20
    second = result.steps["second"]
    assert (second.status, second.attempts, second.calls) == ("completed", 3, 1)
    # backoff 30 s doubling, with ±20 % jitter: the journal's virtual clock shows the waits
    first_gap, second_gap = gaps_ms(second)
    assert 24_000 <= first_gap <= 36_000
    assert 48_000 <= second_gap <= 72_000
    assert result.duration_ms is not None and result.duration_ms >= 72_000
    assert [e and e.type for e in second.errors] == ["InjectedFailure", "InjectedFailure", None]
    assert [a.action for a in second.attempt_log] == ["fail", "fail", "call"]
    assert result.steps["first"].attempts == 1


def test_callable_backoff_gives_exact_virtual_delays() -> None:
    result = run_function(make_flow(backoff=lambda n: 30 * n), {"x": 1}, fail={"first": 3})

    assert result.status == "completed"
    assert gaps_ms(result.steps["first"]) == [30_000, 60_000, 90_000]


def test_retry_after_error_sets_the_virtual_delay() -> None:
    result = run_function(
        make_flow(backoff=1), {"x": 1}, fail={"first": [durable.RetryAfterError(3600)]}
    )

    assert result.status == "completed"
    assert gaps_ms(result.steps["first"]) == [3_600_000]
    assert result.steps["first"].errors[0].type == "RetryAfterError"


def test_exhausted_retries_fail_the_run_with_the_last_error() -> None:
    errors = [ValueError("one"), ValueError("two"), ValueError("three")]
    result = run_function(make_flow(retries=2, backoff=1), {"x": 1}, fail={"first": errors})

    assert result.status == "failed"
    assert result.output is None
    assert result.error is not None
    assert result.error.type == "StepError"
    assert result.error.step == "first"
    assert result.error.cause is not None
    assert (result.error.cause.type, result.error.cause.message) == ("ValueError", "three")
    first = result.steps["first"]
    assert (first.status, first.attempts, first.calls) == ("failed", 3, 0)
    assert [str(e) for e in first.errors] == [
        "ValueError: one",
        "ValueError: two",
        "ValueError: three",
    ]
    assert str(first.error) == "ValueError: three"
    assert result.step_ids == ["first"]


def test_an_exception_is_raised_on_every_attempt() -> None:
    result = run_function(make_flow(retries=3, backoff=1), {"x": 1}, fail={"first": TimeoutError})

    assert result.status == "failed"
    first = result.steps["first"]
    assert first.attempts == 4
    assert first.calls == 0
    assert {e.type for e in first.errors if e} == {"TimeoutError"}
    # one instance raised four times must not pile four tracebacks into the last record
    assert first.error is not None
    assert first.error.traceback.count("injected_failure") == 1


def test_non_retriable_error_stops_at_once() -> None:
    result = run_function(make_flow(), {"x": 1}, fail={"first": durable.NonRetriableError("no")})

    assert result.status == "failed"
    assert result.steps["first"].attempts == 1
    assert result.error is not None and result.error.cause is not None
    assert result.error.cause.type == "NonRetriableError"


def test_a_list_with_none_lets_that_attempt_through() -> None:
    result = run_function(make_flow(backoff=1), {"x": 1}, fail={"first": [KeyError("k"), None]})

    first = result.steps["first"]
    assert (first.attempts, first.calls, first.status) == (2, 1, "completed")


def test_a_callable_decides_per_attempt() -> None:
    seen: list[int] = []

    def decide(attempt: int) -> BaseException | None:
        seen.append(attempt)
        return OSError(f"attempt {attempt}") if attempt < 3 else None

    result = run_function(make_flow(backoff=1), {"x": 2}, fail={"second": decide})

    assert seen == [1, 2, 3]
    assert result.output == 8
    assert [e and e.message for e in result.steps["second"].errors] == [
        "attempt 1",
        "attempt 2",
        None,
    ]


def test_fail_zero_changes_nothing() -> None:
    result = run_function(make_flow(), {"x": 1}, fail={"first": 0})

    assert result.steps["first"].attempts == 1
    assert result.steps["first"].calls == 1


def test_a_step_level_retries_override_is_honoured() -> None:
    @durable.function(id="override", retries=5, backoff=1)
    def override(event: durable.Event, step: durable.Step) -> int:
        return step.run("once", double, 1, retries=0)

    result = run_function(override, fail={"once": 1})

    assert result.status == "failed"
    assert result.steps["once"].attempts == 1
