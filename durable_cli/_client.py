"""`durable_cli.send`: queue an event from application code, as `durable send` does."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing costs `durable send` 20 ms to import; annotations are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = ["default_state_dir", "send"]


def default_state_dir() -> str:
    """`$DURABLE_STATE_DIR`, else `.durable` in the current folder."""
    return os.environ.get("DURABLE_STATE_DIR") or ".durable"


def send(
    name: str,
    data: dict[str, Any] | None = None,
    *,
    state_dir: str | None = None,
    id: str | None = None,
) -> str:
    """Queue an event for the runner on `state_dir` (none needs to be up); return its id.

    `data` may be a pydantic model or a dataclass (sent as its JSON). Called inside an
    OpenTelemetry span, the event carries that span's trace context: the runs it starts
    continue the trace (a web request's, say)."""
    # imported here so `import durable_cli` stays light (no diskcache, no sqlite)
    from .engine import actions
    from .engine._tracing import add_trace
    from .store import open_store

    if data is not None and type(data) is not dict:
        from .sdk._typed import plain_data

        data = plain_data(data)
    event = add_trace(actions.make_event(name, data, event_id=id))  # checked before opening
    store = open_store(state_dir or default_state_dir())
    try:
        return actions.submit_event(store, event)
    finally:
        store.close()
