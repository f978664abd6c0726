"""durable: local-first durable execution for Python.

import durable_cli as durable

@durable.function(id="process-uploaded-document", trigger="api/document.uploaded")
def process_document(event: durable.Event, step: durable.Step):
    check = step.run("validate-upload", validate_document, event.data["filename"])
    ...
"""

from ._client import send
from .errors import (
    DurableError,
    InjectedFailure,
    NonRetriableError,
    OutputNotStorableError,
    RetryAfterError,
    StepError,
)
from .sdk import AsyncStep, Event, Function, Step, function

__version__ = "0.1.0"

__all__ = [
    "AsyncStep",
    "DurableError",
    "Event",
    "Function",
    "InjectedFailure",
    "NonRetriableError",
    "OutputNotStorableError",
    "RetryAfterError",
    "Step",
    "StepError",
    "__version__",
    "function",
    "send",
]
