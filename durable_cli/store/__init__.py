"""The journal: records, the `Store` protocol, its SQLite (diskcache) and PostgreSQL
implementations, and the one way to queue an event from outside a runner (`send_event`)."""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing and diskcache are slow imports for `durable send`: loaded lazily
if TYPE_CHECKING:
    from typing import Any

    from ._check import Finding
    from ._codec import dumps, loads
    from ._diagnose import diagnose
    from ._diskcache import SCHEMA_VERSION, DiskcacheStore, open_store
    from ._failures import EVERY_ATTEMPT, PendingFailure, failure_key
    from ._ids import new_id
    from ._postgres import open_database
    from ._postgres._diagnose import diagnose_database
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
    from ._runner import runner_pid
    from ._state import SEND_RETRY_S, open_state, send_event
    from ._where import (
        DATABASE_ENV,
        DEFAULT_STATE_DIR,
        STATE_ENV,
        default_database_url,
        default_state_dir,
    )

_WHERE = {
    "dumps": "._json",
    "loads": "._json",
    "SCHEMA_VERSION": "._files",
    "Finding": "._check",
    "diagnose": "._diagnose",
    "diagnose_database": "._postgres._diagnose",
    "DiskcacheStore": "._diskcache",
    "open_store": "._diskcache",
    "EVERY_ATTEMPT": "._failures",
    "PendingFailure": "._failures",
    "failure_key": "._failures",
    "new_id": "._ids",
    "open_database": "._postgres",
    "Store": "._protocol",
    "runner_pid": "._runner",
    "SEND_RETRY_S": "._state",
    "open_state": "._state",
    "send_event": "._state",
    "DATABASE_ENV": "._where",
    "DEFAULT_STATE_DIR": "._where",
    "STATE_ENV": "._where",
    "default_database_url": "._where",
    "default_state_dir": "._where",
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
    "DATABASE_ENV",
    "DEFAULT_STATE_DIR",
    "EVERY_ATTEMPT",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "SEND_RETRY_S",
    "STATE_ENV",
    "STEP_STATUSES",
    "TERMINAL_RUN_STATUSES",
    "TIMER_STATUSES",
    "Attempt",
    "DiskcacheStore",
    "Finding",
    "PendingFailure",
    "RunRecord",
    "StepRecord",
    "Store",
    "default_database_url",
    "default_state_dir",
    "diagnose",
    "diagnose_database",
    "dumps",
    "failure_key",
    "loads",
    "new_id",
    "open_database",
    "open_state",
    "open_store",
    "runner_pid",
    "send_event",
]
