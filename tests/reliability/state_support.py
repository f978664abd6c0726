"""State dirs to damage, a byte-level fingerprint of them, the real `durable` to run on them."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from durable_cli.engine import Engine, load_paths
from durable_cli.store import open_store

DURABLE = Path(sys.executable).with_name("durable")
FLOW = Path(__file__).with_name("workflows") / "big_flow.py"
BIG = 100_000  # data this large lives in its own value file


def build_state(state: Path) -> str:
    """A journal holding a completed run (its step output in a value file) and a queued event
    whose data is in a value file too; returns the run id.

    Built in a child process that closes every connection, so the state dir is at rest (no
    -wal/-shm files) and this process has never attached it.
    """
    done = subprocess.run(
        [sys.executable, __file__, str(state)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _build(state: Path) -> str:
    store = open_store(str(state))
    engine = Engine(store, load_paths([str(FLOW)]))
    engine.send("big/go", {"n": 1})
    asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    engine.close()
    for thread in threading.enumerate():  # worker threads hold connections until they end
        if thread is not threading.main_thread():
            thread.join(10)
    (run,) = store.list_runs()
    store.put_event({"id": "queued-1", "name": "big/go", "data": {"pad": "y" * BIG}, "ts": 1})
    store.close()
    return run.id


def _grow(state: Path, events: int, size: int) -> None:
    store = open_store(str(state))
    for i in range(events):
        # recorded, not queued: rows that make the journal's tables deeper, and no runs
        event = {"id": f"grown-{i:05d}", "name": "big/go", "data": {"pad": "g" * size}, "ts": i}
        store.put_event(event, queue=False)
    store.close()


def grow_state(state: Path, events: int, size: int) -> None:
    """Record `events` more events of about `size` bytes each (stored in their rows), in a
    child process that closes the journal: at rest afterwards, never attached here."""
    done = subprocess.run(
        [sys.executable, __file__, "grow", str(state), str(events), str(size)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


_CRASH = (
    "import os, signal, sys\n"
    "from durable_cli.store import open_store\n"
    "s = open_store(sys.argv[1])\n"
    "for i in range(5):\n"
    "    s.put_event({'id': f'late-{i}', 'name': 'big/go', 'data': {}, 'ts': i})\n"
    "os.kill(os.getpid(), signal.SIGKILL)\n"
)


def crash_after_writes(state: Path) -> None:
    """Five events committed to the WAL, then kill -9: the WAL and its index stay behind."""
    done = subprocess.run([sys.executable, "-c", _CRASH, str(state)], timeout=30)
    assert done.returncode == -signal.SIGKILL
    assert (state / "cache.db-wal").exists() and (state / "cache.db-shm").exists()


def garble(path: Path, offset: int, size: int) -> None:
    """Overwrite `size` bytes of `path` at `offset` with noise (the same for the same offset)."""
    noise = random.Random(offset).randbytes(size)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(noise)


def value_files(state: Path) -> list[Path]:
    """The large-value files under a state dir."""
    return sorted(state.rglob("*.val"))


def fingerprint(state: Path) -> dict[str, str]:
    """Every entry under `state` (the path itself if it is a file): file bytes, or its kind.

    SQLite's -shm file is hashed by what it indexes: the WAL's page size, frame count, page
    count, last checksum and salts, how much of it is copied into the database, and which page
    each frame holds. Left out are the change counter, the header checksum over it and the
    reader slots and locks: SQLite rewrites those whenever the first process to open a journal
    after a crash rebuilds the index from the WAL, read-only processes included, and they say
    nothing about the journal's contents."""
    if state.is_file():
        return {".": hashlib.sha256(state.read_bytes()).hexdigest()}
    found = {}
    for path in sorted(state.rglob("*")):
        mode = path.lstat().st_mode
        rel = str(path.relative_to(state))
        if stat.S_ISREG(mode):
            data = path.read_bytes()
            if path.name.endswith("-shm") and len(data) >= 136:
                data = b"shm:" + data[12:40] + data[96:100] + data[136:]
            found[rel] = hashlib.sha256(data).hexdigest()
        else:  # a folder or the wake FIFO (never read: that would block)
            found[rel] = "dir" if stat.S_ISDIR(mode) else "special"
    return found


def journal_rows(state: Path) -> dict[str, tuple[object, ...]]:
    """Every row of the journal (key: tag, value, value file), read with plain SQLite, less
    the rows a runner keeps about itself (its lease), which say nothing about the journal."""
    con = sqlite3.connect(f"file:{state / 'cache.db'}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT key, tag, value, filename FROM Cache").fetchall()
    finally:
        con.close()
    return {key: tuple(rest) for key, *rest in rows if not str(key).startswith("rn/")}


@dataclass
class Result:
    """How one `durable` command ended."""

    code: int
    out: str
    err: str
    seconds: float


def durable_cmd(
    *args: str, state: Path, cwd: Path, timeout: float = 10, user: int | None = None
) -> Result:
    """Run `durable ARGS --state-dir STATE` (as uid `user` if given); must end within `timeout`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
    env["DURABLE_STATE_DIR"] = str(state)
    began = time.monotonic()
    done = subprocess.run(
        [str(DURABLE), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        user=user,
    )
    return Result(done.returncode, done.stdout, done.stderr, time.monotonic() - began)


if __name__ == "__main__":
    if sys.argv[1] == "grow":
        _grow(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        print(_build(Path(sys.argv[1])))
