"""Spans through the application's own tracer provider: a span per call of a run's handler and per
step attempt, one trace per run across retries and restarts, sleeps and waits as events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import StatusCode

import durable_cli as durable
from durable_cli.engine import Engine, Registry, VirtualClock
from durable_cli.store import open_store
from durable_cli.testing import run_function

_HOUR_MS = 3_600_000


def _flaky(calls: list[int]) -> Any:
    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return "ok"

    return flaky


def _named(spans: Any, prefix: str) -> list[Any]:
    return [s for s in spans if s.name.startswith(prefix)]


def _one_trace(spans: Any) -> int:
    traces = {s.context.trace_id for s in spans}
    assert len(traces) == 1, [(s.name, hex(s.context.trace_id)) for s in spans]
    return traces.pop()


def test_a_run_is_one_trace_with_a_span_per_step_attempt_across_a_retry(spans):
    calls: list[int] = []

    @durable.function(id="traced", trigger="t/go", retries=2, backoff=1)
    def traced(event, step):
        step.run("first", lambda: 1)
        return step.run("flaky", _flaky(calls))

    result = run_function(traced)
    assert result.status == "completed"
    finished = spans.get_finished_spans()
    _one_trace(finished)
    runs = _named(finished, "run traced")
    assert len(runs) == 2  # the first call, and the resume after the retry's backoff
    first, resumed = runs
    assert first.parent is None  # nothing traced around it: the run's trace starts here
    assert resumed.parent.span_id == first.context.span_id
    assert dict(first.attributes) == {
        "durable.function_id": "traced",
        "durable.run_id": result.id,
        "durable.resumed": False,
        "durable.status": "retrying",
    }
    assert resumed.attributes["durable.resumed"] is True
    assert resumed.attributes["durable.status"] == "completed"

    steps = _named(finished, "step ")
    assert [(s.name, s.attributes["durable.attempt"]) for s in steps] == [
        ("step first", 1),
        ("step flaky", 1),
        ("step flaky", 2),
    ]
    first_step, failed, retried = steps
    assert first_step.parent.span_id == first.context.span_id
    assert failed.parent.span_id == first.context.span_id
    assert retried.parent.span_id == resumed.context.span_id
    for span in steps:
        assert span.attributes["durable.function_id"] == "traced"
        assert span.attributes["durable.run_id"] == result.id
    assert failed.attributes["durable.step_id"] == "flaky"
    assert failed.attributes["durable.status"] == "retrying"
    assert failed.attributes["durable.error"] == "RuntimeError: boom"
    assert failed.status.status_code is StatusCode.ERROR
    assert retried.attributes["durable.status"] == "completed"
    assert "durable.error" not in retried.attributes
    assert retried.status.status_code is StatusCode.UNSET


def test_a_failed_run_and_step_carry_the_error(spans):
    @durable.function(id="doomed", trigger="t/go", retries=0)
    def doomed(event, step):
        step.run("explode", lambda: 1 / 0)

    result = run_function(doomed)
    assert result.status == "failed"
    (run,) = _named(spans.get_finished_spans(), "run doomed")
    (step,) = _named(spans.get_finished_spans(), "step explode")
    assert step.attributes["durable.status"] == "failed"
    assert step.attributes["durable.error"] == "ZeroDivisionError: division by zero"
    assert run.attributes["durable.status"] == "failed"
    assert "explode" in run.attributes["durable.error"]
    assert run.status.status_code is StatusCode.ERROR


def test_an_async_handler_is_traced_the_same_way(spans):
    async def fetch() -> int:
        return 1

    @durable.function(id="async-traced", trigger="t/go")
    async def handler(event, step):
        await step.run("fetch", fetch)
        return await step.run("sync", lambda: 2)

    result = run_function(handler)
    assert result.status == "completed"
    finished = spans.get_finished_spans()
    _one_trace(finished)
    (run,) = _named(finished, "run async-traced")
    steps = _named(finished, "step ")
    assert [s.name for s in steps] == ["step fetch", "step sync"]
    assert all(s.parent.span_id == run.context.span_id for s in steps)


def test_sleeps_and_waits_are_events_on_the_run_spans(spans):
    @durable.function(id="patient", trigger="t/go")
    def patient(event, step):
        step.sleep("nap", 60)
        return step.wait_for_event("hear", event="t/reply", timeout=30)

    result = run_function(patient)
    assert result.status == "completed"
    runs = _named(spans.get_finished_spans(), "run patient")
    events = [(e.name, dict(e.attributes)) for run in runs for e in run.events]
    names = [name for name, _ in events]
    assert names == ["sleep", "sleep completed", "wait", "wait completed"]
    sleep, _, wait, _ = (attrs for _, attrs in events)
    assert sleep["durable.step_id"] == "nap" and isinstance(sleep["durable.until"], int)
    assert wait["durable.step_id"] == "hear" and wait["durable.event"] == "t/reply"
    assert [r.attributes["durable.status"] for r in runs] == ["sleeping", "waiting", "completed"]


def test_the_application_code_inside_a_step_nests_under_the_run(spans):
    tracer = trace.get_tracer("app")

    def work() -> int:
        with tracer.start_as_current_span("app work"):
            return 1

    @durable.function(id="nesting", trigger="t/go")
    def nesting(event, step):
        return step.run("work", work)

    run_function(nesting)
    finished = spans.get_finished_spans()
    _one_trace(finished)
    (app,) = _named(finished, "app work")
    (run,) = _named(finished, "run nesting")
    assert app.parent.span_id == run.context.span_id


def test_a_span_around_run_function_is_the_run_s_parent(spans):
    @durable.function(id="child-of-test", trigger="t/go")
    def handler(event, step):
        return step.run("one", lambda: 1)

    with trace.get_tracer("test").start_as_current_span("the test") as outer:
        run_function(handler)
    finished = spans.get_finished_spans()
    assert _one_trace(finished) == outer.get_span_context().trace_id
    (run,) = _named(finished, "run child-of-test")
    assert run.parent.span_id == outer.get_span_context().span_id


def _serve(state: str, *functions: Any, start_ms: int | None = None) -> None:
    """A runner on the state dir (a store of its own) until nothing can progress."""
    store = open_store(state)
    engine = Engine(store, Registry(functions), clock=VirtualClock(start_ms))
    try:
        asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    finally:
        engine.close()
        store.close()


def test_a_span_around_send_is_the_run_s_parent(spans, tmp_path: Path):
    @durable.function(id="requested", trigger="web/request")
    def requested(event, step):
        return step.run("handle", lambda: event.data["n"] + 1)

    state = str(tmp_path / "state")
    with trace.get_tracer("web").start_as_current_span("POST /orders") as request:
        durable.send("web/request", {"n": 1}, state_dir=state)
    durable.send("web/request", {"n": 2}, state_dir=state)  # no span: no trace on the event
    _serve(state, requested)
    finished = spans.get_finished_spans()
    runs = _named(finished, "run requested")
    assert len(runs) == 2
    context = request.get_span_context()
    continued = [r for r in runs if r.context.trace_id == context.trace_id]
    assert len(continued) == 1 and continued[0].parent.span_id == context.span_id
    (other,) = [r for r in runs if r is not continued[0]]
    assert other.parent is None


def test_a_run_keeps_its_trace_across_a_runner_restart(spans, tmp_path: Path):
    @durable.function(id="long", trigger="t/go")
    def long(event, step):
        step.run("before", lambda: 1)
        step.sleep("overnight", 3600)
        return step.run("after", lambda: 2)

    state = str(tmp_path / "state")
    durable.send("t/go", state_dir=state)
    store = open_store(state)
    clock = VirtualClock()
    engine = Engine(store, Registry([long]), clock=clock)
    try:  # the first runner stops while the run sleeps
        asyncio.run(engine.serve(until_ms=clock.now_ms()))
    finally:
        engine.close()
        store.close()
    first = spans.get_finished_spans()
    assert [s.name for s in first] == ["step before", "run long"]
    spans.clear()

    _serve(state, long, start_ms=clock.now_ms() + 2 * _HOUR_MS)  # a new runner, next morning
    later = spans.get_finished_spans()
    assert [s.name for s in later] == ["step after", "run long"]
    (first_run,) = _named(first, "run long")
    (resumed,) = _named(later, "run long")
    assert resumed.context.trace_id == first_run.context.trace_id
    assert resumed.parent.span_id == first_run.context.span_id
    assert resumed.attributes["durable.resumed"] is True


def test_a_child_run_continues_its_parent_run_s_trace(spans):
    @durable.function(id="kid", trigger="t/kid")
    def kid(event, step):
        return step.run("play", lambda: 1)

    @durable.function(id="parent", trigger="t/go")
    def parent(event, step):
        return step.invoke("call-kid", function=kid)

    result = run_function(parent, functions=[kid])
    assert result.status == "completed"
    finished = spans.get_finished_spans()
    _one_trace(finished)
    parent_runs = _named(finished, "run parent")
    (kid_run,) = _named(finished, "run kid")
    assert kid_run.parent.span_id == parent_runs[0].context.span_id


def test_durable_never_replaces_the_application_s_provider(spans):
    provider = trace.get_tracer_provider()

    @durable.function(id="plain", trigger="t/go")
    def plain(event, step):
        return step.run("one", lambda: 1)

    run_function(plain)
    assert trace.get_tracer_provider() is provider
    assert _named(spans.get_finished_spans(), "run plain")


class _BrokenProvider(trace.TracerProvider):
    """A provider whose tracer fails: the application's tracing is broken, not its runs."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("exporter misconfigured")


def test_a_broken_provider_leaves_runs_untraced_but_running(global_provider):
    global_provider(_BrokenProvider())

    @durable.function(id="unharmed", trigger="t/go")
    def unharmed(event, step):
        return step.run("one", lambda: 1)

    result = run_function(unharmed)
    assert (result.status, result.output) == ("completed", 1)
