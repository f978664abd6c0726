"""State dirs to damage, a byte-level fingerprint of them, the real `durable` to run on them."""

from __future__ import annotations

import asyncio
import hashlib
import os
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


def value_files(state: Path) -> list[Path]:
    """The large-value files under a state dir."""
    return sorted(state.rglob("*.val"))


def fingerprint(state: Path) -> dict[str, str]:
    """Every entry under `state` (the path itself if it is a file): file bytes, or its kind."""
    if state.is_file():
        return {".": hashlib.sha256(state.read_bytes()).hexdigest()}
    found = {}
    for path in sorted(state.rglob("*")):
        mode = path.lstat().st_mode
        rel = str(path.relative_to(state))
        if stat.S_ISREG(mode):
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:  # a folder or the wake FIFO (never read: that would block)
            found[rel] = "dir" if stat.S_ISDIR(mode) else "special"
    return found


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
    print(_build(Path(sys.argv[1])))
