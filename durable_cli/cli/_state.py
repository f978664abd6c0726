"""Where a command's state is, and the one function every command opens it with.

The state is a database (`--database-url`, else `$DURABLE_DATABASE_URL`) or a state dir
(`--state-dir`, else `$DURABLE_STATE_DIR`, else `.durable`). The command line beats the
environment: `--state-dir` typed with `$DURABLE_DATABASE_URL` set is the state dir; both options
typed is bad input. Values typed on the command line arrive as `Given` (the shared options in
`_options` mark them; `durable send`'s own parser does too), so no command needs to ask.

Imports neither typer nor the store's implementations: `durable send` resolves its state here.
"""

from __future__ import annotations

import os

from ..errors import InputError
from ..store import SEND_RETRY_S, default_database_url, default_state_dir

TYPE_CHECKING = False  # typing is a slow import for `durable send`; annotations are strings
if TYPE_CHECKING:
    from ..store import Store

__all__ = ["ONE_SHOT_RETRY_S", "Given", "Where", "open_existing", "open_state", "where"]

# a one-shot command rides out a database restart, but never hangs on a database that is gone
ONE_SHOT_RETRY_S = SEND_RETRY_S


class Given(str):
    """An option's value as typed on the command line (not from a variable or a default)."""

    __slots__ = ()


class Where:
    """A state dir or a database URL: exactly one of the two is set."""

    __slots__ = ("database_url", "state_dir")

    def __init__(self, state_dir: str | None, database_url: str | None) -> None:
        """One of them (the other None)."""
        self.state_dir = state_dir
        self.database_url = database_url


def where(state_dir: str | None, database_url: str | None) -> Where:
    """The state a command works on, from its two options (None: not given at all)."""
    if isinstance(state_dir, Given) and isinstance(database_url, Given):
        raise InputError("give --state-dir or --database-url, not both")
    if database_url is None:
        database_url = default_database_url()
    if database_url is not None and not database_url.strip():
        database_url = None  # an empty variable or option: as if unset
    if database_url is not None and not isinstance(state_dir, Given):
        return Where(None, database_url)
    return Where(state_dir or default_state_dir(), None)


def open_state(
    state_dir: str | None,
    database_url: str | None,
    *,
    create: bool = False,
    runner: bool = False,
    durability: str | None = None,
) -> Store:
    """Open the command's state.

    A state dir is created only with `create` (else a missing one is refused). A database gets
    durable's schema on first use whatever the command; a lost connection is retried until it
    is back for a `runner`, for `ONE_SHOT_RETRY_S` otherwise. A database out of reach when
    opening is a one-line `StateError` naming it.
    """
    from ..store import open_state as open_any

    place = where(state_dir, database_url)
    if place.database_url is not None:
        retry_s = None if runner else ONE_SHOT_RETRY_S
        return open_any(database_url=place.database_url, retry_s=retry_s, durability=durability)
    return open_any(state_dir=place.state_dir, create=create, durability=durability)


def open_existing(state_dir: str | None, database_url: str | None) -> Store | None:
    """`open_state` for a read that may find nothing: None for a state dir not there (none is
    created, and a read of it has nothing to show)."""
    place = where(state_dir, database_url)
    if place.state_dir is not None and not os.path.exists(place.state_dir):
        return None
    return open_state(state_dir, database_url)
