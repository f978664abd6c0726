"""A run cancelled from outside while one of its steps runs stays cancelled, whatever that step
does next: a failed attempt's retry and a sleep's hold are written with the run, and neither may
bring a cancelled run back (the cancel was lost: the run went on retrying or sleeping)."""

from __future__ import annotations

import pytest

import durable_cli as durable
from durable_cli.engine import actions


def _cancel_me(store) -> None:
    (run,) = store.list_runs()
    actions.cancel_run(store, run.id)  # as `durable cancel` in another terminal would


@pytest.mark.parametrize("kind", ["def", "async"])
def test_a_run_cancelled_while_its_attempt_fails_is_not_retried(harness, store, kind):
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            _cancel_me(store)
        raise RuntimeError("boom")

    if kind == "def":

        @durable.function(id="flaky", trigger="go", retries=3)
        def fn(event, step):
            return step.run("flaky", flaky)
    else:

        @durable.function(id="flaky", trigger="go", retries=3)
        async def fn(event, step):
            return await step.run("flaky", flaky)

    harness.run(fn, events=[("go", {})])
    (run,) = harness.runs()
    assert run.status == "cancelled"
    assert attempts == [1], "the cancelled run's step was retried"
    (rec,) = store.load_steps(run.id)
    assert rec.status == "retrying"  # the failed attempt is journaled; the cancel stands


@pytest.mark.parametrize("kind", ["def", "async"])
def test_a_run_cancelled_in_a_step_before_a_sleep_does_not_sleep_on(harness, store, kind):
    woke: list[str] = []

    if kind == "def":

        @durable.function(id="napper", trigger="go")
        def fn(event, step):
            step.run("cancel", _cancel_me, store)
            step.sleep("nap", 60)
            woke.append("after the nap")
    else:

        @durable.function(id="napper", trigger="go")
        async def fn(event, step):
            await step.run("cancel", _cancel_me, store)
            await step.sleep("nap", 60)
            woke.append("after the nap")

    harness.run(fn, events=[("go", {})])
    (run,) = harness.runs()
    assert run.status == "cancelled"
    assert woke == [], "the cancelled run slept and went on"
