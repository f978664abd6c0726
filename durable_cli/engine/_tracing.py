"""OpenTelemetry spans for runs and step attempts, through the application's own tracer provider.

Nothing here imports OpenTelemetry: it is looked up in `sys.modules`, so an application that
never imported it (and so never configured a provider) pays one dictionary lookup per run, and
one that did but left the provider at the API's default pays one call more. With a provider
set, each call of a run's handler gets a span (`run_span`, current while the handler runs, so
the application's own spans inside steps nest under it), and a `Tracing` listener on the engine
turns step changes into a span per step attempt and sleeps, waits and other held steps into
events on the run's span. durable never sets or replaces the global provider: it asks for it
each time (`durable dev --otlp-endpoint` sets one up for its own process, in the CLI).

A run's spans share one trace across resumes and restarts: the first span of a run is
journaled in `run.meta["trace"]` (W3C trace context) before its handler runs, and every later
call of the handler is a child of it. That first span's parent is the trace context the event
carries (`event["trace"]`, put there by `durable_cli.send()` and `run_function` when called
inside a span), or a child run's parent run's span.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._listener import Change

if TYPE_CHECKING:
    from ._invocation import Invocation

__all__ = ["Tracing", "add_trace", "run_span", "trace_carrier"]

_SCOPE = "durable_cli"
_NO_SPAN = contextlib.nullcontext()
_ATTRIBUTE_TYPES = (str, bool, int, float)
_LOCK = threading.Lock()
_BY_ENGINE: weakref.WeakKeyDictionary[Any, Tracing] = weakref.WeakKeyDictionary()


def run_span(inv: Invocation) -> contextlib.AbstractContextManager[None]:
    """A span around one call of a run's handler; a shared no-op unless the application traces."""
    api = sys.modules.get("opentelemetry.trace")
    if api is None:
        return _NO_SPAN
    provider = api.get_tracer_provider()
    if isinstance(provider, api.ProxyTracerProvider | api.NoOpTracerProvider):
        return _NO_SPAN  # the API's default: no application configured tracing
    return _tracing(inv.engine).run_span(inv, provider)


def trace_carrier() -> dict[str, str] | None:
    """The W3C trace context of the span active here (to journal with an event), or None."""
    api = sys.modules.get("opentelemetry.trace")
    if api is None or not api.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _propagator().inject(carrier)
    return carrier or None


def add_trace(event: dict[str, Any]) -> dict[str, Any]:
    """`event` carrying the trace context active here, so the runs it starts continue it."""
    carrier = trace_carrier()
    if carrier:
        event["trace"] = carrier
    return event


def _tracing(engine: Any) -> Tracing:
    """The engine's `Tracing`, made and attached as a listener the first time it is needed."""
    tracing = _BY_ENGINE.get(engine)
    if tracing is None:
        with _LOCK:
            tracing = _BY_ENGINE.get(engine)
            if tracing is None:
                # the store, not the engine: the engine holds this listener, and a value that
                # held its key would keep a weak dictionary's entry alive for ever
                tracing = _BY_ENGINE[engine] = Tracing(engine.store)
                engine.add_listener(tracing)
    return tracing


def _propagator() -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator()


class Tracing:
    """One engine's open run spans and step-attempt spans; a listener for its step changes."""

    def __init__(self, store: Any) -> None:
        """Trace the runs an engine on `store` calls."""
        self.store = store
        self._runs: dict[str, tuple[Any, Invocation]] = {}  # run id -> (span, invocation)
        self._steps: dict[tuple[str, str | None], Any] = {}  # (run id, step id) -> span
        self._tracer: tuple[Any, Any] = (None, None)  # (provider, its tracer)

    def tracer(self, provider: Any) -> Any:
        """durable's tracer from the provider set now (asked for again if the provider changed)."""
        known, tracer = self._tracer
        if known is not provider:
            from .. import __version__

            tracer = provider.get_tracer(_SCOPE, __version__)
            self._tracer = (provider, tracer)
        return tracer

    @contextlib.contextmanager
    def run_span(self, inv: Invocation, provider: Any) -> Iterator[None]:
        """A span for one call of the run's handler, current while it runs."""
        from opentelemetry import context, trace

        run = inv.run
        journaled = run.meta.get("trace")
        carrier = journaled or run.event.get("trace") or self._parent_run_trace(run)
        try:
            span, started = self._start(run, carrier, journaled is not None, provider), True
        except Exception:  # a faulty provider or exporter: the run goes on, untraced
            span, started = None, False
        if not started:
            yield
            return
        if journaled is None:
            # journaled before the handler runs: a restart, even after a crash, continues it
            run.meta["trace"] = {}
            _propagator().inject(run.meta["trace"], context=trace.set_span_in_context(span))
            self.store.save_run(run)
        self._runs[run.id] = (span, inv)
        token = context.attach(trace.set_span_in_context(span))
        try:
            yield
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            context.detach(token)
            self._runs.pop(run.id, None)
            for key in [k for k in self._steps if k[0] == run.id]:
                self._steps.pop(key).end()  # an attempt cut short (the run was cancelled)
            _finish(span, run.status, _message(run.error), trace)

    def _start(self, run: Any, carrier: Any, resumed: bool, provider: Any) -> Any:
        """The run's span for this call, a child of the trace context `carrier` holds."""
        parent = _propagator().extract(carrier) if isinstance(carrier, dict) else None
        attributes = {
            "durable.function_id": run.function,
            "durable.run_id": run.id,
            "durable.resumed": resumed,
        }
        return self.tracer(provider).start_span(
            f"run {run.function}", context=parent, attributes=attributes
        )

    def _parent_run_trace(self, run: Any) -> Any:
        """A child run (`step.invoke`) continues its parent run's trace."""
        if not run.parent:
            return None
        parent = self.store.get_run(run.parent["run"])
        return None if parent is None else parent.meta.get("trace")

    # -- the listener -----------------------------------------------------------------------
    def __call__(self, change: Change) -> None:
        """Start or end a step attempt's span, or note a held step on the run's span."""
        if change.kind != "step":
            return
        entry = self._runs.get(change.run_id or "")
        if entry is None:
            return
        run_span, inv = entry
        key = (change.run_id or "", change.step_id)
        if change.status == "running" and change.attempt is not None:  # a `run` step's attempt
            self._steps[key] = self._start_step(inv, run_span, change)
            return
        span = self._steps.pop(key, None) if change.status != "running" else None
        if span is None:  # a sleep, a wait, an invoke…: held or settled, an event on the run
            _note(run_span, inv, change)
            return
        from opentelemetry import trace

        if change.duration_ms is not None:
            span.set_attribute("durable.duration_ms", change.duration_ms)
        wake_at = change.detail.get("wake_at")
        if isinstance(wake_at, int):
            span.set_attribute("durable.retry_at", wake_at)
        _finish(span, change.status or "", change.error, trace)

    def _start_step(self, inv: Invocation, run_span: Any, change: Change) -> Any:
        from opentelemetry import trace

        provider = trace.get_tracer_provider()
        return self.tracer(provider).start_span(
            f"step {change.step_id}",
            context=trace.set_span_in_context(run_span),
            attributes={
                "durable.function_id": inv.run.function,
                "durable.run_id": inv.run.id,
                "durable.step_id": change.step_id or "",
                "durable.attempt": change.attempt or 1,
            },
        )


def _finish(span: Any, status: str, error: str | None, trace: Any) -> None:
    """End a span with durable's status, and an error status when it failed."""
    span.set_attribute("durable.status", status)
    if error:
        span.set_attribute("durable.error", error)
        if status in ("failed", "retrying"):
            span.set_status(trace.Status(trace.StatusCode.ERROR, error))
    span.end()


def _note(run_span: Any, inv: Invocation, change: Change) -> None:
    """A step that calls no user code, held or settled: an event on the run's span."""
    rec = inv.journal.get(change.step_id or "")
    kind = rec.kind if rec is not None else "step"
    name = kind if change.status == "running" else f"{kind} {change.status}"
    attributes: dict[str, Any] = {"durable.step_id": change.step_id or ""}
    for field, value in change.detail.items():
        if isinstance(value, _ATTRIBUTE_TYPES):
            attributes[f"durable.{field}"] = value
    if change.error:
        attributes["durable.error"] = change.error
    run_span.add_event(name, attributes)


def _message(error: dict[str, Any] | None) -> str | None:
    if not error:
        return None
    return f"{error.get('type', 'Error')}: {error.get('message', '')}"
