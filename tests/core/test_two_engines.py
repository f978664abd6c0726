"""Two engines in one process on one state dir: the lease logic under test, not the state-dir
lock (which the CLI takes and these engines don't). The scenarios live in tests/engine_pair.py,
shared with the PostgreSQL store's run of them (tests/store/test_pg_engines.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from engine_pair import SCENARIOS, Pair, two_stores

from durable_cli.store import open_store


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Pair]:
    """Two store objects on one state dir: one per engine."""
    with two_stores(lambda: open_store(str(tmp_path / "state"))) as pair:
        yield pair


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_two_engines_on_one_state_dir(stores: Pair, scenario: Callable[[Pair], None]):
    scenario(stores)
