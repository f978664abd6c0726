"""Either kind of state: `open_state` opens a state dir or a database, and `send_event` is the
one way an event is queued from outside a runner (`durable send`, `durable_cli.send`).

`send_event` on a state dir takes the fast path (`_send.put_event`: sqlite3 alone) and leaves
to the full store what that path does not do (a new state dir, a large event, a busy journal);
on a database it is the PostgreSQL store's `put_event`, which wakes the runners in its commit.
Nothing heavy is imported before it is known to be needed: psycopg only for a database URL.
"""

from __future__ import annotations

from ..errors import InputError
from ._where import default_database_url, default_state_dir

TYPE_CHECKING = False  # typing is a slow import for `durable send`; annotations are strings
if TYPE_CHECKING:
    from typing import Any

    from ._protocol import Store

__all__ = ["SEND_RETRY_S", "open_state", "send_event"]

# a sender is a one-shot process: it rides out a database restart, but never waits forever
SEND_RETRY_S = 10.0
_NO_DRIVER = "a database URL needs the PostgreSQL driver: pip install 'durable-cli[postgres]'"


def open_state(
    *,
    state_dir: str | None = None,
    database_url: str | None = None,
    create: bool = True,
    retry_s: float | None = None,
    durability: str | None = None,
) -> Store:
    """The store on `database_url` if given, else on `state_dir` (default: `.durable`).

    `retry_s`: how long a lost database connection is retried (None: until it is back); a
    database out of reach when opening is refused at once. `durability` is a state dir's.
    """
    if database_url is not None:
        if durability is not None:
            raise InputError(
                "--durability is a state dir's setting; on PostgreSQL the server's"
                " synchronous_commit decides"
            )
        try:
            from ._postgres import open_database
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.split(".")[0] != "psycopg":
                raise
            raise InputError(_NO_DRIVER) from None
        return open_database(database_url, create=create, retry_s=retry_s)
    from ._diskcache import open_store

    return open_store(state_dir or default_state_dir(), create=create, durability=durability)


def send_event(
    event: dict[str, Any],
    *,
    state_dir: str | None = None,
    database_url: str | None = None,
    retry_s: float | None = SEND_RETRY_S,
) -> str:
    """Queue `event` (as `make_event` builds it) and wake the runners; returns its id.

    An id that exists already queues nothing (the same event sent twice makes one run). With
    neither `state_dir` nor `database_url`: `$DURABLE_DATABASE_URL`, else `$DURABLE_STATE_DIR`,
    else `.durable`; both is an InputError. A lost database connection is retried for
    `retry_s` seconds.
    """
    if database_url is not None and state_dir is not None:
        raise InputError("give state_dir or database_url, not both")
    if database_url is None and state_dir is None:
        database_url = default_database_url()
    if database_url is None:
        path = state_dir or default_state_dir()
        from ._send import put_event

        if put_event(path, event) is not None:
            return str(event["id"])
    store = open_state(state_dir=state_dir, database_url=database_url, retry_s=retry_s)
    try:
        store.put_event(event)
        if database_url is None:  # on PostgreSQL, put_event's own commit woke the runners
            store.notify()
    finally:
        store.close()
    return str(event["id"])
