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
    """
    # imported here so `import durable_cli` stays light (no diskcache, no sqlite, no psycopg)
    from .engine import make_event
    from .store import send_event

    event = make_event(name, data, event_id=id)  # checked before opening
    return send_event(event, state_dir=state_dir, database_url=database_url)
