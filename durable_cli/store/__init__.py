"""The journal: records, the `Store` protocol and its diskcache implementation."""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing and diskcache cost `durable send` tens of ms: all loaded lazily
if TYPE_CHECKING:
    from typing import Any

    from ._codec import dumps, loads
    from ._diskcache import SCHEMA_VERSION, DiskcacheStore, open_store
    from ._failures import EVERY_ATTEMPT, PendingFailure, failure_key
    from ._ids import new_id
    from ._postgres import open_database
    from ._protocol import Store
    from ._records import (
        ACTIVE_RUN_STATUSES,
        RUN_STATUSES,
        STEP_STATUSES,
        TERMINAL_RUN_STATUSES,
        TIMER_STATUSES,
        Attempt,
        RunRecord,
        StepRecord,
    )

_WHERE = {
    "dumps": "._json",
    "loads": "._json",
    "SCHEMA_VERSION": "._files",
    "DiskcacheStore": "._diskcache",
    "open_store": "._diskcache",
    "EVERY_ATTEMPT": "._failures",
    "PendingFailure": "._failures",
    "failure_key": "._failures",
    "new_id": "._ids",
    "open_database": "._postgres",
    "Store": "._protocol",
    "TIMER_STATUSES": "._records",
    "ACTIVE_RUN_STATUSES": "._records",
    "RUN_STATUSES": "._records",
    "STEP_STATUSES": "._records",
    "TERMINAL_RUN_STATUSES": "._records",
    "Attempt": "._records",
    "RunRecord": "._records",
    "StepRecord": "._records",
}


def __getattr__(name: str) -> Any:
    """Import the module behind `name` on first use."""
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(import_module(module, __name__), name)


__all__ = [
    "ACTIVE_RUN_STATUSES",
    "EVERY_ATTEMPT",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "STEP_STATUSES",
    "TERMINAL_RUN_STATUSES",
    "TIMER_STATUSES",
    "Attempt",
    "DiskcacheStore",
    "PendingFailure",
    "RunRecord",
    "StepRecord",
    "Store",
    "dumps",
    "failure_key",
    "loads",
    "new_id",
    "open_database",
    "open_store",
]
