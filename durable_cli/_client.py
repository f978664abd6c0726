"""`durable_cli.send`: queue an event from application code, as `durable send` does."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs `durable send` 20 ms to import; annotations are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = ["send"]


def send(
    name: str,
    data: dict[str, Any] | None = None,
    *,
    state_dir: str | None = None,
    database_url: str | None = None,
    id: str | None = None,
) -> str:
    """Queue an event for the runners on `database_url` or `state_dir` (none needs to be up);
    return its id. With neither: `$DURABLE_DATABASE_URL`, else `$DURABLE_STATE_DIR` or `.durable`.

    `data` may be a pydantic model or a dataclass (sent as its JSON). Called inside an
    OpenTelemetry span, the event carries that span's trace context: the runs it starts
    continue the trace (a web request's, say)."""
    # imported here so `import durable_cli` stays light (no diskcache, no sqlite, no psycopg)
    from .engine import make_event
    from .engine._tracing import add_trace
    from .store import send_event

    if data is not None and type(data) is not dict:
        from .sdk._typed import plain_data

        data = plain_data(data)
    event = add_trace(make_event(name, data, event_id=id))  # checked before opening
    return send_event(event, state_dir=state_dir, database_url=database_url)
