"""Fixtures for the TUI tests: a real state dir, the test workflow, an engine over both."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_support import T0, seed_journal, write_workflow

from durable_cli.engine import Engine, VirtualClock, load_paths
from durable_cli.store import open_store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def workflow(tmp_path: Path) -> Path:
    """The test workflow file."""
    return write_workflow(tmp_path)


@pytest.fixture
def engine(tmp_path: Path, workflow: Path) -> Iterator[Engine]:
    """An engine over a fresh state dir with the test workflow loaded."""
    store = open_store(str(tmp_path / "state"))
    store.lock_runner()
    eng = Engine(store, load_paths([str(workflow)]))
    yield eng
    eng.close()
    store.close()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Clock times render in UTC (snapshots must not depend on the machine's zone)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root, so paths show as `examples/…` the same everywhere."""
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def demo(tmp_path: Path, in_repo: Path, utc: None) -> Iterator[Engine]:
    """The example pipeline over a seeded journal; time stands still at T0 + 125 s."""
    store = open_store(str(tmp_path / "state"))
    seed_journal(store)
    engine = Engine(
        store, load_paths(["examples/document_pipeline.py"]), clock=VirtualClock(T0 + 125_000)
    )
    yield engine
    engine.close()
    store.close()
