"""Fixtures for the core engine tests: a real store in tmp_path, an engine on virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from durable_cli.engine import Change, Engine, Registry, VirtualClock
from durable_cli.sdk import Function
from durable_cli.store import DiskcacheStore, open_store


@pytest.fixture
def store(tmp_path: Any) -> Iterable[DiskcacheStore]:
    """A real diskcache store in a temp dir."""
    st = open_store(str(tmp_path / "state"))
    yield st
    st.close()


class Harness:
    """Runs functions through the real engine on virtual time until nothing can progress."""

    def __init__(self, store: DiskcacheStore) -> None:
        self.store = store
        self.changes: list[Change] = []

    def engine(self, *functions: Function, clock: Any = None) -> Engine:
        return Engine(
            self.store,
            Registry(functions),
            clock=clock or VirtualClock(),
            listeners=[self.changes.append],
        )

    def run(
        self,
        *functions: Function,
        events: Iterable[tuple[str, dict]] = (),
        before: Callable[[Engine], None] | None = None,
    ) -> Engine:
        eng = self.engine(*functions)
        for name, data in events:
            eng.send(name, data)
        if before is not None:
            before(eng)
        asyncio.run(eng.serve(until_idle=True, idle_wait=0))
        eng.close()
        return eng

    def runs(self) -> list[Any]:
        return list(reversed(list(self.store.list_runs())))


@pytest.fixture
def harness(store: DiskcacheStore) -> Harness:
    """Engine runner bound to the temp store."""
    return Harness(store)
