"""Fixtures for the tracing tests: the application's tracer provider, as a test sets it up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.util._once import Once


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """A global SDK provider exporting to memory, set as an application would set it.

    OpenTelemetry lets a process set its global provider once; the test resets that afterwards
    (as OpenTelemetry's own test utilities do), so the other test folders run untraced."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        provider.shutdown()
        trace._TRACER_PROVIDER = None
        trace._TRACER_PROVIDER_SET_ONCE = Once()
