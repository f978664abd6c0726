"""Code-change safety: a journaled result never reaches a different step after the code changed."""

from __future__ import annotations

import asyncio

import durable_cli as durable
from durable_cli.engine import Engine, Registry, VirtualClock, actions, run_detail


def _version(steps, fail_last=True, calls=None):
    calls = calls if calls is not None else []

    def make(name):
        def fn():
            calls.append(name)
            if fail_last and name == steps[-1]:
                raise RuntimeError("not yet")
            return name

        return fn

    @durable.function(id="job", trigger="go", retries=10, backoff=lambda n: 60)
    def job(event, step):
        return [step.run(name, make(name)) for name in steps]

    return job


def _start(store, fn):
    clock = VirtualClock()
    engine = Engine(store, Registry([fn]), clock=clock)
    engine.send("go", {})
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000))
    (run,) = store.list_runs()
    assert run.status == "retrying"
    return engine, clock, run


def _resume(engine, clock, fn):
    engine.swap_registry(Registry([fn]))
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 120_000, recover=False))


def test_a_new_step_before_a_journaled_one_holds_the_run(store):
    engine, clock, run = _start(store, _version(["a", "b", "c"]))
    _resume(engine, clock, _version(["a", "x", "b", "c"]))
    run = store.get_run(run.id)
    assert run.status == "paused"
    assert (
        run.reason
        == "code changed: at step 2 the code would run new step 'x' where the journal has 'b'"
    )
    assert run.meta["code_change"] == {"journal_step": "b", "code_step": "x"}


def test_reordered_steps_hold_the_run(store):
    engine, clock, run = _start(store, _version(["a", "b", "c"]))
    _resume(engine, clock, _version(["b", "a", "c"]))
    run = store.get_run(run.id)
    assert run.status == "paused"
    assert "at step 1 the code asks for 'b' where the journal has 'a'" in run.reason


def test_renamed_completed_step_holds_and_continue_anyway_goes_on(store):
    engine, clock, run = _start(store, _version(["a", "b", "c"]))
    calls: list[str] = []
    fixed = _version(["a", "b2", "c"], fail_last=False, calls=calls)
    _resume(engine, clock, fixed)
    assert store.get_run(run.id).status == "paused"
    engine.continue_anyway(run.id)
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000, recover=False))
    detail = run_detail(store, run.id)
    assert detail["status"] == "completed"
    assert detail["output"] == ["a", "b2", "c"]
    assert calls == ["b2", "c"]  # a replayed from the journal, never re-run


def test_replay_from_the_first_differing_step_reruns_from_there(store):
    engine, clock, run = _start(store, _version(["a", "b", "c"]))
    calls: list[str] = []
    fixed = _version(["a", "x", "c"], fail_last=False, calls=calls)
    _resume(engine, clock, fixed)
    held = store.get_run(run.id)
    new = engine.replay(run.id, from_step=held.meta["code_change"]["journal_step"])
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000, recover=False))
    detail = run_detail(store, new.id)
    assert detail["status"] == "completed" and detail["replay_of"] == run.id
    assert calls == ["x", "c"]
    assert detail["steps"][0]["copied_from"] == run.id


def test_renaming_the_step_that_is_retrying_is_fine(store):
    engine, clock, run = _start(store, _version(["a", "b", "c"]))
    _resume(engine, clock, _version(["a", "b", "c-fixed"], fail_last=False))
    detail = run_detail(store, run.id)
    assert detail["status"] == "completed"
    assert detail["output"] == ["a", "b", "c-fixed"]


def test_a_step_that_changed_kind_holds_the_run(store):
    engine, clock, run = _start(store, _version(["a", "b", "c"]))

    @durable.function(id="job", trigger="go")
    def job(event, step):
        step.run("a", lambda: "a")
        step.sleep("b", 10)

    _resume(engine, clock, job)
    run = store.get_run(run.id)
    assert run.status == "paused"
    assert "'b' was a 'run' step and is now a 'sleep' step" in run.reason


def test_removed_function_pauses_its_runs_and_they_resume_when_it_returns(store):
    fn = _version(["a", "b"], fail_last=False)
    clock = VirtualClock()
    engine = Engine(store, Registry([]), clock=clock)
    actions.queue_event(store, "go", {})
    # the run exists before the function is loaded: it waits, paused, instead of failing
    engine.swap_registry(Registry([fn]))
    engine.swap_registry(Registry([]))
    store.create_runs([engine.new_run(fn, engine.make_event("go", {}))])
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000))
    paused = [r for r in store.list_runs() if r.status == "paused"]
    assert paused and paused[0].reason == "function 'job' is not loaded"
    engine.swap_registry(Registry([fn]))
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000, recover=False))
    assert store.get_run(paused[0].id).status == "completed"
