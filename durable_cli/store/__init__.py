"""The journal: records, the `Store` protocol and its diskcache implementation."""

from ._codec import dumps, loads
from ._diskcache import SCHEMA_VERSION, DiskcacheStore, open_store
from ._ids import new_id
from ._protocol import Store
from ._records import (
    ACTIVE_RUN_STATUSES,
    RUN_STATUSES,
    STEP_STATUSES,
    TERMINAL_RUN_STATUSES,
    Attempt,
    RunRecord,
    StepRecord,
)

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "STEP_STATUSES",
    "TERMINAL_RUN_STATUSES",
    "Attempt",
    "DiskcacheStore",
    "RunRecord",
    "StepRecord",
    "Store",
    "dumps",
    "loads",
    "new_id",
    "open_store",
]
