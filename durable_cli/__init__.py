"""durable: local-first durable execution for Python.

import durable_cli as durable

@durable.function(id="process-uploaded-document", trigger="api/document.uploaded")
def process_document(event: durable.Event, step: durable.Step):
    check = step.run("validate-upload", validate_document, event.data["filename"])
    ...
"""

from __future__ import annotations

from ._client import send
from .errors import (
    DurableError,
    InjectedFailure,
    NondeterminismError,
    NonRetriableError,
    OutputNotStorableError,
    RetryAfterError,
    StepError,
)

TYPE_CHECKING = False  # typing costs `durable send` 20 ms to import; annotations are strings
if TYPE_CHECKING:
    from typing import Any

    from .sdk import AsyncStep, Event, Function, Step, function

__version__ = "0.1.0"

_SDK = frozenset({"AsyncStep", "Event", "Function", "Step", "function"})


def __getattr__(name: str) -> Any:
    """The authoring API, imported on first use: `durable send` never needs it."""
    if name in _SDK:
        from . import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AsyncStep",
    "DurableError",
    "Event",
    "Function",
    "InjectedFailure",
    "NonRetriableError",
    "NondeterminismError",
    "OutputNotStorableError",
    "RetryAfterError",
    "Step",
    "StepError",
    "__version__",
    "function",
    "send",
]
