"""The durability setting: SQLite synchronous level on every connection, kept per state dir."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from durable_cli.errors import InputError
from durable_cli.store import open_store

NORMAL, FULL = 1, 2


def _levels(store) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """synchronous on this thread's connection and on a fresh thread's."""
    sql = "PRAGMA synchronous"
    here = store.rows.cache.sql(sql).fetchone()[0]
    there: list[int] = []
    worker = threading.Thread(target=lambda: there.append(store.rows.cache.sql(sql).fetchone()[0]))
    worker.start()
    worker.join()
    return here, there[0]


def test_default_is_wal_with_synchronous_normal(tmp_path: Path):
    store = open_store(str(tmp_path / "state"))
    try:
        assert store.durability == "normal"
        assert _levels(store) == (NORMAL, NORMAL)
        assert store.rows.cache.sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.close()


def test_full_is_recorded_so_every_later_opener_commits_with_fsync(tmp_path: Path):
    state = str(tmp_path / "state")
    runner = open_store(state, durability="full")
    sender = open_store(state)  # as `durable send` opens it: no durability given
    try:
        assert (runner.durability, sender.durability) == ("full", "full")
        assert _levels(runner) == (FULL, FULL)
        assert _levels(sender) == (FULL, FULL)
    finally:
        sender.close()
        runner.close()
    back = open_store(state, durability="normal")
    try:
        assert back.durability == "normal" and _levels(back) == (NORMAL, NORMAL)
    finally:
        back.close()
    again = open_store(state)
    try:
        assert again.durability == "normal"
    finally:
        again.close()


def test_full_durability_fsyncs_value_files_and_normal_does_not(tmp_path, monkeypatch):
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    big = {"pad": "x" * 100_000}
    for level, expect in (("normal", False), ("full", True)):
        synced.clear()
        store = open_store(str(tmp_path / level), durability=level)
        try:
            store.put_event({"id": "e1", "name": "x", "data": big, "ts": 1})
        finally:
            store.close()
        assert bool(synced) is expect, (level, synced)


def test_an_unknown_durability_is_bad_input_and_creates_nothing(tmp_path: Path):
    with pytest.raises(InputError, match="durability 'fast'"):
        open_store(str(tmp_path / "state"), durability="fast")
    assert not (tmp_path / "state").exists()
