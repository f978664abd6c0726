"""Two engines on one PostgreSQL database, each with its own store object (as two worker
processes would): the scenarios of tests/engine_pair.py, which the embedded store runs too."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from engine_pair import SCENARIOS, Pair


@pytest.fixture
def stores(pg_server) -> Iterator[Pair]:
    """Two store objects on one fresh database: one per engine."""
    from durable_cli.store import open_database

    url = pg_server.new_database()
    first, second = open_database(url), open_database(url)
    yield first, second
    first.close()
    second.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_two_engines_on_one_database(stores: Pair, scenario: Callable[[Pair], None]):
    scenario(stores)
