"""Events as `durable send` makes them: validated before anything is written.

Imports neither the store nor the engine: a sending process should not pay for them.
"""

from __future__ import annotations

import re
import time

from ..errors import InputError
from ..store._ids import new_id
from ..store._json import dumps

TYPE_CHECKING = False  # typing is a slow import for `durable send`; annotations are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MAX_EVENT_BYTES", "STEP_ID", "make_event", "now_ms"]

MAX_EVENT_BYTES = 512 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,255}$")
STEP_ID = re.compile(r"^[^\s/][^/]{0,255}$")


def now_ms() -> int:
    """Epoch milliseconds."""
    return int(time.time() * 1000)


def make_event(
    name: str,
    data: Any = None,
    *,
    event_id: str | None = None,
    ts: int | None = None,
    max_bytes: int = MAX_EVENT_BYTES,
) -> dict[str, Any]:
    """Validate and build an event record (InputError says what is wrong)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("event name is empty")
    if not _NAME.match(name):
        raise InputError(
            f"event name {name!r} is not valid: use letters, digits and _ . : / - "
            "(starting with a letter or digit, at most 256 characters)"
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"event data must be a JSON object, not {type(data).__name__}")
    try:
        size = len(dumps(data).encode("utf-8"))
    except (TypeError, ValueError) as exc:
        raise InputError(f"event data is not storable as JSON: {exc}") from None
    if size > max_bytes:
        raise InputError(f"event data is {size} bytes; the limit is {max_bytes} bytes")
    if event_id is not None and (not event_id or not STEP_ID.match(event_id)):
        raise InputError(f"event id {event_id!r} is not valid (no spaces or slashes)")
    at = now_ms() if ts is None else ts
    return {"id": event_id or new_id(at), "name": name, "data": data, "ts": at}
