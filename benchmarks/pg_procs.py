"""The processes `benchmarks/postgres.py` starts and times (one job each, a subcommand each).

    python benchmarks/pg_procs.py steps URL N        # durable: one run of N journaled steps
    python benchmarks/pg_procs.py dbos-steps URL N   # DBOS: one workflow of N @DBOS.step()s
    python benchmarks/pg_procs.py dbos-runs URL N    # DBOS: N five-step workflows; prints seconds
    python benchmarks/pg_procs.py worker URL FILE [--lease S] [--concurrency C]

`worker` is a bare engine serving FILE's functions until SIGTERM (`postgres.py --engine-workers`:
the engine without the CLI around it, to compare with `durable worker`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

FIVE = ("one", "two", "three", "four", "five")


def durable_steps(url: str, steps: int) -> None:
    """One run of `steps` trivial journaled steps, start to finish, then exit."""
    import durable_cli as durable
    from durable_cli.engine import Engine, Registry
    from durable_cli.store import open_database

    @durable.function(id="bench-steps", trigger="bench/steps")
    def bench(event, step):
        for i in range(steps):
            step.run("s", int, i)

    store = open_database(url)
    engine = Engine(store, Registry([bench]))
    engine.send("bench/steps", {})
    asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    engine.close()
    store.close()


def _dbos(url: str) -> object:
    from dbos import DBOS

    # DBOS's own logging says a line per launch; the benchmark prints its own figures
    return DBOS(config={"name": "bench", "system_database_url": url, "log_level": "WARNING"})


def dbos_steps(url: str, steps: int) -> None:
    """DBOS Transact: one workflow of `steps` trivial steps, start to finish, then exit."""
    from dbos import DBOS

    _dbos(url)

    @DBOS.step()
    def work(i: int) -> int:
        return i

    @DBOS.workflow()
    def bench(n: int) -> None:
        for i in range(n):
            work(i)

    DBOS.launch()
    bench(steps)
    DBOS.destroy()


def dbos_runs(url: str, runs: int) -> None:
    """DBOS Transact: `runs` five-step workflows started at once; prints the seconds from the
    first start to the last result (launch excluded)."""
    from dbos import DBOS

    _dbos(url)

    @DBOS.step()
    def work(n: int) -> int:
        return n + 1

    @DBOS.workflow()
    def five_steps(n: int) -> int:
        for _ in FIVE:
            n = work(n)
        return n

    DBOS.launch()
    started = time.perf_counter()
    handles = [DBOS.start_workflow(five_steps, i) for i in range(runs)]
    results = [handle.get_result() for handle in handles]
    elapsed = time.perf_counter() - started
    assert results == [i + 5 for i in range(runs)]
    print(f"{elapsed:.6f}")
    DBOS.destroy()


def worker(url: str, path: str, lease_s: float, concurrency: int) -> None:
    """Serve `path`'s functions on the database until SIGTERM (or SIGINT)."""
    from durable_cli.engine import Engine, load_paths
    from durable_cli.store import open_database

    registry = load_paths([path])
    store = open_database(url)
    engine = Engine(store, registry, concurrency=concurrency, lease_s=lease_s)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await engine.serve(stop=stop)

    asyncio.run(serve())
    engine.close()
    store.close()


def main() -> None:
    """Dispatch the subcommand."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    for name in ("steps", "dbos-steps", "dbos-runs"):
        one = sub.add_parser(name)
        one.add_argument("url")
        one.add_argument("n", type=int)
    serve = sub.add_parser("worker")
    serve.add_argument("url")
    serve.add_argument("path")
    serve.add_argument("--lease", type=float, default=5.0)
    serve.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if args.what == "steps":
        durable_steps(args.url, args.n)
    elif args.what == "dbos-steps":
        dbos_steps(args.url, args.n)
    elif args.what == "dbos-runs":
        dbos_runs(args.url, args.n)
    else:
        worker(args.url, args.path, args.lease, args.concurrency)


if __name__ == "__main__":
    sys.exit(main())
