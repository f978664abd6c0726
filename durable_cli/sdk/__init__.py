"""Authoring workflows: the decorator, `Event` and the `step` objects."""

from ._event import Event
from ._function import Backoff, Function, function
from ._outcome import Outcome
from ._step import AsyncStep, Plan, Step, StepDriver

__all__ = [
    "AsyncStep",
    "Backoff",
    "Event",
    "Function",
    "Outcome",
    "Plan",
    "Step",
    "StepDriver",
    "function",
]
