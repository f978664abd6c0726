"""Fixtures for the store tests: one contract, run on both stores.

`backend` opens store objects on one fresh state (a state dir, or a PostgreSQL database of its
own on the session's throw-away server): several objects on one state play several processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pg_support import pg_server  # noqa: F401 - the session's PostgreSQL server, a fixture

from durable_cli.store import Store, open_store

Opener = Callable[[], Store]


@pytest.fixture(params=["diskcache", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens store objects on one fresh state of either kind; all closed at the end."""
    if request.param == "diskcache":
        path = str(tmp_path / "state")

        def make() -> Store:
            return open_store(path)
    else:
        from durable_cli.store._postgres import open_database

        url = request.getfixturevalue("pg_server").new_database()

        def make() -> Store:
            return open_database(url)

    opened: list[Store] = []

    def opener() -> Store:
        store = make()
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(backend: Opener) -> Store:
    """One store object on a fresh state."""
    return backend()
