"""µs per journaled step (one run of N trivial steps) beside a raw SQLite WAL commit.

    python benchmarks/journal.py [--steps 1000] [--repeat 3] [--durability full]

Prints the best of --repeat runs for each, so a noisy neighbour on the machine counts less.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time

import durable_cli as durable
from durable_cli.engine import Engine, Registry
from durable_cli.store import open_store
from durable_cli.store._files import WAL_AUTOCHECKPOINT


def journal_us_per_step(steps: int, durability: str = "normal") -> float:
    """Run one function of `steps` trivial steps through the real engine; µs per step."""

    @durable.function(id="bench", trigger="bench/go")
    def bench(event, step):
        for i in range(steps):
            step.run("s", int, i)

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(os.path.join(tmp, "state"), durability=durability)
        engine = Engine(store, Registry([bench]))
        engine.send("bench/go", {})
        started = time.perf_counter()
        asyncio.run(engine.serve(until_idle=True, idle_wait=0))
        elapsed = time.perf_counter() - started
        engine.close()
        (run,) = store.list_runs()
        assert run.status == "completed" and len(store.load_steps(run.id)) == steps
        store.close()
    return elapsed / steps * 1e6


def raw_sqlite_us_per_commit(commits: int, synchronous: str = "NORMAL") -> float:
    """One INSERT + COMMIT per row in WAL mode (synchronous NORMAL or FULL); µs per commit."""
    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(os.path.join(tmp, "raw.db"), isolation_level=None)
        con.execute("PRAGMA journal_mode=wal")
        con.execute(f"PRAGMA synchronous={synchronous}")
        con.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")  # as the store has it
        con.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)")
        payload = b'{"id":"s","status":"completed","output":1}'
        started = time.perf_counter()
        for i in range(commits):
            con.execute("BEGIN")
            con.execute("INSERT INTO t VALUES (?, ?)", (f"k{i:06d}", payload))
            con.execute("COMMIT")
        elapsed = time.perf_counter() - started
        con.close()
    return elapsed / commits * 1e6


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--durability",
        choices=("normal", "full"),
        default="normal",
        help="full: fsync every commit (SQLite synchronous=FULL) for power-loss safety",
    )
    args = parser.parse_args()
    journal = min(journal_us_per_step(args.steps, args.durability) for _ in range(args.repeat))
    sync = "FULL" if args.durability == "full" else "NORMAL"
    raw = min(raw_sqlite_us_per_commit(args.steps, sync) for _ in range(args.repeat))
    print(
        f"journaled step (run of {args.steps} steps, incl. run start/end,"
        f" durability {args.durability}): {journal:7.1f} µs/step"
    )
    print(
        f"raw sqlite3 WAL commit, synchronous={sync} (same machine, same run): {raw:7.1f} µs/commit"
    )
    print(f"ratio: {journal / raw:.1f}x")


if __name__ == "__main__":
    main()
