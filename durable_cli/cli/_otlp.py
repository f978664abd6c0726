"""`durable dev --otlp-endpoint URL`: the one place durable sets up an exporter of its own.

It is for the `durable dev` process only (a library never touches the global tracer provider):
an OpenTelemetry SDK provider that sends this process's spans (durable's runs and steps, and
the workflows' own spans inside them) over OTLP/HTTP to a collector, a local Jaeger say. When
something already set a provider (OpenTelemetry's auto-instrumentation), the exporter is added
to it rather than replacing it.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from ..errors import InputError

__all__ = ["start_otlp"]

_TRACES_PATH = "/v1/traces"  # OTLP/HTTP's path for spans, when the URL names none
_NEEDS = (
    "--otlp-endpoint needs the OpenTelemetry SDK and its OTLP/HTTP exporter: "
    "pip install 'durable-cli[otel]'"
)


def start_otlp(endpoint: str) -> None:
    """Export this process's spans to `endpoint` from now on (flushed when the process exits:
    the SDK's provider shuts down at exit)."""
    url = _traces_url(endpoint)
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise InputError(_NEEDS) from None
    # batched, off the runner's threads; sent every second, so a crash loses little
    processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=url), schedule_delay_millis=1000)
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # set up already: add to it, don't replace it
        current.add_span_processor(processor)
        return
    name = os.environ.get("OTEL_SERVICE_NAME") or "durable"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)


def _traces_url(endpoint: str) -> str:
    """The URL spans are posted to: `endpoint`, with OTLP's traces path if it names no path."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            f"--otlp-endpoint {endpoint!r} is not an http(s) URL (e.g. http://localhost:4318)"
        )
    if parts.path in ("", "/"):
        return endpoint.rstrip("/") + _TRACES_PATH
    return endpoint
