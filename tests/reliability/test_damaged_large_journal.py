"""A journal too large to be checked whole on every open: `durable send` still refuses damage in
every page it or any command reads first, and in the files' bytes, and writes nothing.

Past `FULL_CHECK_BYTES` opening a journal checks its header, size, pointer map and WAL from
their bytes and its schema and settings with SQLite; the pages an insert reads (the key index
from its root down, the table's newest leaf) SQLite checks as it reads them, inside the write
transaction, which is rolled back. Damage elsewhere is found by the commands that read it and
by `durable doctor`, which checks every page.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from state_support import (
    build_state,
    crash_after_writes,
    durable_cmd,
    fingerprint,
    garble,
    grow_state,
)

from durable_cli.store._files import FULL_CHECK_BYTES

DB = "cache.db"
PAGE = 4096
SEND = ("send", "big/go", "--data", '{"n": 2}')


def _read(state: Path, sql: str) -> list[tuple]:
    # immutable: reads the file alone and leaves no -wal/-shm behind
    con = sqlite3.connect(f"file:{state / DB}?mode=ro&immutable=1", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _root(state: Path, name: str) -> int:
    ((page,),) = _read(state, f"SELECT rootpage FROM sqlite_master WHERE name = '{name}'")
    return page


def _garble_page(state: Path, page: int) -> Path:
    garble(state / DB, (page - 1) * PAGE, PAGE)
    return state


def _wal_pages(state: Path) -> set[int]:
    """The page numbers the frames of the WAL hold."""
    data = (state / f"{DB}-wal").read_bytes()
    return {struct.unpack(">I", data[at : at + 4])[0] for at in range(32, len(data), 24 + PAGE)}


def garbled_header(state: Path) -> Path:
    garble(state / DB, 0, 100)
    return state


def truncated(state: Path) -> Path:
    os.truncate(state / DB, (state / DB).stat().st_size // PAGE // 2 * PAGE)
    return state


def garbled_settings(state: Path) -> Path:  # what every command reads when it opens a journal
    return _garble_page(state, _root(state, "Settings"))


def garbled_second_pointer_map_page(state: Path) -> Path:
    return _garble_page(state, 2 + PAGE // 5 + 1)  # the map's pages: 2, then every 820th


def garbled_key_index_root(state: Path) -> Path:
    return _garble_page(state, _root(state, "Cache_key_raw"))


def garbled_table_root(state: Path) -> Path:
    return _garble_page(state, _root(state, "Cache"))


def _newest_leaf(state: Path) -> int:
    ((page,),) = _read(
        state,
        "SELECT pageno FROM dbstat WHERE name = 'Cache' AND pagetype = 'leaf'"
        " ORDER BY path DESC LIMIT 1",
    )
    return page


def garbled_newest_leaf(state: Path) -> Path:  # where the insert puts its rows
    return _garble_page(state, _newest_leaf(state))


_CRASH_IN_SETTINGS = (
    "import os, signal, sqlite3, sys\n"
    "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "con.execute(\"UPDATE Settings SET value = value + 1 WHERE key = 'count'\")\n"
    "os.kill(os.getpid(), signal.SIGKILL)\n"
)


def garbled_newest_leaf_beside_a_wal(state: Path) -> Path:
    """Found only by the insert, with a WAL a killed process left beside the journal: closing
    the refused insert's connection must not fold that WAL into the damaged file."""
    done = subprocess.run([sys.executable, "-c", _CRASH_IN_SETTINGS, str(state / DB)], timeout=30)
    assert done.returncode == -signal.SIGKILL
    assert (state / f"{DB}-wal").stat().st_size > 0
    page = _newest_leaf(state)
    assert page not in _wal_pages(state)  # else SQLite reads the WAL's copy, not the damage
    return _garble_page(state, page)


def wal_frame_garbled_after_a_crash(state: Path) -> Path:
    crash_after_writes(state)
    garble(state / f"{DB}-wal", 32 + 3 * (24 + PAGE) + 10, 64)  # the fourth frame's header
    return state


CASES: dict[str, Callable[[Path], Path]] = {
    f.__name__: f
    for f in (
        garbled_header,
        truncated,
        garbled_settings,
        garbled_second_pointer_map_page,
        garbled_key_index_root,
        garbled_table_root,
        garbled_newest_leaf,
        garbled_newest_leaf_beside_a_wal,
        wal_frame_garbled_after_a_crash,
    )
}


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A healthy journal past the size that is checked whole, its tables a few levels deep."""
    state = tmp_path_factory.mktemp("large") / "state"
    build_state(state)
    grow_state(state, events=4000, size=1000)
    assert (state / DB).stat().st_size > FULL_CHECK_BYTES
    return state


def _copy(src: Path, dst: Path) -> Path:
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
    return dst


def test_a_healthy_large_journal_takes_an_event(large: Path, tmp_path: Path):
    state = _copy(large, tmp_path / "state")
    got = durable_cmd(*SEND, state=state, cwd=tmp_path)
    assert got.code == 0, got.err


@pytest.mark.parametrize("damage", list(CASES))
def test_send_refuses_a_damaged_large_journal_and_writes_nothing(
    damage: str, large: Path, tmp_path: Path
):
    state = CASES[damage](_copy(large, tmp_path / "state"))
    before = fingerprint(state)
    got = durable_cmd(*SEND, state=state, cwd=tmp_path)
    assert got.code == 2, (got.code, got.out, got.err)
    lines = got.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(state) in lines[0], got.err
    assert "durable doctor" in lines[0]
    assert fingerprint(state) == before
