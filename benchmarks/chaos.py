"""Chaos: kill -9 the runner at random points while runs go on; print what survived.

    python benchmarks/chaos.py           # the CI slice: 8 runs x 10 steps, 20 kills
    python benchmarks/chaos.py --full    # 50 runs x 10 steps, 200 kills
    python benchmarks/chaos.py --full --kind async    # the same with an `async def` workflow
    python benchmarks/chaos.py --full --database-url URL --workers 3 [--restart-command CMD]
    python benchmarks/chaos.py --full --workers 3      # the same on a throw-away PostgreSQL

Each kill lands at a random point: inside the intake transaction (events dequeued, runs not
committed), right after it, between a step returning and its result being journaled, right
after the journal commit, inside a step, around a run's completion, or from outside after a
random few side effects. The runner is started again each time (the real `durable dev`),
events are sent meanwhile (half with `durable send`, half with `durable_cli.send`). Exit 0 and
PASS when every promise held.

With --workers (PostgreSQL), that many real `durable worker`s run at once and the kills are
spread over them, each dead worker replaced at once; the database is restarted --restarts times
(2 with --full) meanwhile: a throw-away server (tests/pg_support.py, as the test suite starts)
with `pg_ctl restart -m immediate`; a server of yours at --database-url with --restart-command
(a shell command, e.g. `sudo pg_ctlcluster 15 main restart -m immediate`), or without it by
cutting every connection to the database instead. The database must hold no runs yet.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS / "chaos"), str(TESTS)]

from campaign import run_campaign  # noqa: E402
from ledger import Report  # noqa: E402


def main() -> int:
    """Run a campaign and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="50 runs x 10 steps, 200 kills")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--kills", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kind", choices=("def", "async"), default="def", help="the workflow")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (implies --workers)")
    parser.add_argument("--workers", type=int, help="workers at once, on PostgreSQL")
    parser.add_argument("--restarts", type=int, help="database restarts (default: 2 with --full)")
    parser.add_argument("--restart-command", help="a shell command restarting your server")
    parser.add_argument("--lease", type=float, default=1.0, help="the workers' --lease, seconds")
    args = parser.parse_args()
    runs = args.runs or (50 if args.full else 8)
    kills = args.kills or (200 if args.full else 20)
    with tempfile.TemporaryDirectory(prefix="durable-chaos-") as tmp:
        if args.database_url or args.workers:
            report = on_postgres(Path(tmp), args, runs, kills)
        else:
            report = run_campaign(
                Path(tmp), runs=runs, steps=args.steps, kills=kills, seed=args.seed, kind=args.kind
            )
    for line in report.lines():
        print(line)
    for problem in (report.journal_problems + report.over_budget)[:20]:
        print("  " + problem)
    return 0 if report.ok else 1


def on_postgres(work: Path, args: argparse.Namespace, runs: int, kills: int) -> Report:
    """The campaign with several workers on one PostgreSQL database."""
    from fleet import run_fleet

    restarts = args.restarts if args.restarts is not None else (2 if args.full else 1)
    with database(args) as (url, restart, what):
        print(f"{args.workers or 3} workers, lease {args.lease:g} s; {restarts} x {what}")
        return run_fleet(
            work,
            url,
            workers=args.workers or 3,
            runs=runs,
            steps=args.steps,
            kills=kills,
            restarts=restarts,
            restart=restart,
            seed=args.seed,
            lease=args.lease,
            kind=args.kind,
        )


@contextmanager
def database(args: argparse.Namespace) -> Iterator[tuple[str, Callable[[], None], str]]:
    """(URL, how to restart its server, what a restart is): the given database, or one on a
    throw-away server."""
    if args.database_url:
        url = args.database_url
        if args.restart_command:
            yield url, lambda: _run_restart(args.restart_command, url), "--restart-command"
        else:
            yield url, lambda: _cut_connections(url), "every connection cut (no --restart-command)"
        return
    from pg_support import PgServer, pg_bindir

    bindir = pg_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (pg_config --bindir); give --database-url")
    server = PgServer(bindir)
    try:
        server.start()
        server.prepare_template()
        yield server.new_database(), server.restart, "pg_ctl restart -m immediate"
    finally:
        server.cleanup()


def _run_restart(command: str, url: str) -> None:
    subprocess.run(command, shell=True, check=True)
    _reachable(url)


def _cut_connections(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _reachable(url: str, timeout: float = 60.0) -> None:
    """Wait until the database takes connections again."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # polling the restarting server


if __name__ == "__main__":
    sys.exit(main())
