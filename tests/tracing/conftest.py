"""Fixtures for the tracing tests: the application's tracer provider, as a test sets it up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.util._once import Once


@pytest.fixture
def global_provider() -> Iterator[Callable[[trace.TracerProvider], None]]:
    """Sets the global tracer provider as an application would.

    OpenTelemetry lets a process set its global provider once; the test resets that afterwards
    (as OpenTelemetry's own test utilities do), so the other test folders run untraced."""
    try:
        yield trace.set_tracer_provider
    finally:
        trace._TRACER_PROVIDER = None
        trace._TRACER_PROVIDER_SET_ONCE = Once()


@pytest.fixture
def spans(global_provider: Callable[[Any], None]) -> Iterator[InMemorySpanExporter]:
    """A global SDK provider exporting to memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    global_provider(provider)
    try:
        yield exporter
    finally:
        provider.shutdown()
