"""Code-change safety at a run's end: code that no longer asks for journaled steps holds the run.

The rule is one of the shared history rules (engine/_history.py) that `testing.replay` raises
`NondeterminismError` by; `test_code_change.py` covers the rules for steps asked out of order.
"""

from __future__ import annotations

import asyncio

import durable_cli as durable
from durable_cli.engine import Engine, Registry, VirtualClock, run_detail


def _job(*steps: str, fail: str | None = None, crash: bool = False) -> durable.Function:
    def make(name: str):
        def call() -> str:
            if name == fail:
                raise RuntimeError("not yet")
            return name

        return call

    @durable.function(id="job", trigger="go", retries=10, backoff=lambda n: 60)
    def job(event: durable.Event, step: durable.Step) -> list[str]:
        out = [step.run(name, make(name)) for name in steps]
        if crash:
            raise KeyError("missing")
        return out

    return job


def _held_after(store, new: durable.Function) -> tuple[Engine, VirtualClock, str]:
    clock = VirtualClock()
    engine = Engine(store, Registry([_job("a", "b", "c", fail="c")]), clock=clock)
    engine.send("go", {})
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000))
    (run,) = store.list_runs()
    assert run.status == "retrying"
    engine.swap_registry(Registry([new]))
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 120_000, recover=False))
    return engine, clock, run.id


def test_code_that_ends_before_a_journaled_step_holds_the_run(store) -> None:
    engine, clock, run_id = _held_after(store, _job("a"))

    run = store.get_run(run_id)
    assert run.status == "paused"
    assert run.reason == (
        "code changed: the run ended without asking for step 2 'b', which the journal has"
    )
    assert run.meta["code_change"] == {"journal_step": "b", "code_step": None}
    engine.continue_anyway(run_id)  # matched by id from now on: the run may end early
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000, recover=False))
    assert run_detail(store, run_id)["output"] == ["a"]


def test_the_hold_says_what_the_code_raised_when_it_ended(store) -> None:
    _, _, run_id = _held_after(store, _job("a", crash=True))

    run = store.get_run(run_id)
    assert run.status == "paused"
    assert run.reason == (
        "code changed: the run ended (raising KeyError: 'missing') without asking for"
        " step 2 'b', which the journal has"
    )


def test_dropping_only_the_unsettled_step_is_fine(store) -> None:
    _, _, run_id = _held_after(store, _job("a", "b"))

    assert run_detail(store, run_id)["status"] == "completed"
