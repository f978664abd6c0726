"""The ceiling of a thread per `def` run here: threads that do nothing but journal writes.

    python benchmarks/thread_floor.py [--runs 2000] [--concurrency 16] [--writes 7]

A `def` handler runs in a worker thread, which must wait for each of its steps to be committed
before it goes on. This runs --concurrency threads that skip everything else a run does and
only make --writes group-committed writes each per "run" (a 5-step run makes 7: start, five
steps, end), through the store's own `GroupCommit`, then the same writes made by one thread in
shared statements, as the event loop makes them for `async def` runs. The first figure bounds
what `def` workflows can reach on this machine, whatever the engine does around the writes.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from durable_cli.store._files import WAL_AUTOCHECKPOINT
from durable_cli.store._group import GroupCommit, Row, upsert_rows

VALUE = b'{"id":"s","seq":0,"kind":"run","status":"completed","attempts":1,"output":1}'


def _database(path: str) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=wal")
    con.execute(
        "CREATE TABLE Cache (rowid INTEGER PRIMARY KEY, key BLOB, raw INTEGER, store_time REAL,"
        " expire_time REAL, access_time REAL, access_count INTEGER DEFAULT 0, tag BLOB,"
        " size INTEGER DEFAULT 0, mode INTEGER DEFAULT 0, filename TEXT, value BLOB)"
    )
    con.execute("CREATE UNIQUE INDEX Cache_key_raw ON Cache(key, raw)")
    con.close()


def _connect(path: str) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
    return con


def threads_per_run(path: str, runs: int, concurrency: int, writes: int) -> float:
    """Runs a second with a thread per run, each waiting for its writes (group-committed)."""
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "con"):
            local.con = _connect(path)
        return local.con

    group = GroupCommit(connection)

    def run(i: int) -> None:
        for w in range(writes):
            group.write(f"t/{i:08d}/{w}", None, VALUE)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(run, range(runs)))
    return runs / (time.perf_counter() - started)


def one_thread(path: str, runs: int, concurrency: int, writes: int) -> float:
    """Runs a second when one thread writes each round of `concurrency` runs in one statement."""
    con = _connect(path)
    started = time.perf_counter()
    for first in range(0, runs, concurrency):
        batch = range(first, min(first + concurrency, runs))
        for w in range(writes):
            rows: list[Row] = [(f"o/{i:08d}/{w}", None, VALUE) for i in batch]
            upsert_rows(con, rows)
    con.close()
    return runs / (time.perf_counter() - started)


def main() -> None:
    """Print both ceilings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--writes", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "floor.db")
        _database(path)
        threaded = threads_per_run(path, args.runs, args.concurrency, args.writes)
        shared = one_thread(path, args.runs, args.concurrency, args.writes)
    print(f"{args.runs} runs x {args.writes} writes, {args.concurrency} at a time, nothing else:")
    print(f"  a thread per run, waiting for each write (group commit): {threaded:,.0f} runs/s")
    print(f"  one thread, a round of runs per statement (the loop):    {shared:,.0f} runs/s")


if __name__ == "__main__":
    main()
