"""PostgreSQL figures, side by side against one throw-away server: durable, raw psycopg, DBOS.

    python benchmarks/postgres.py [--rounds 3] [--only steps,runs,latency,recovery]
    pip install dbos    # optional: DBOS Transact is measured beside durable when installed

The server is the test suite's (tests/pg_support.py: initdb in a temp dir, a free 127.0.0.1
port, fsync off); every figure gets a fresh database on it. Figures alternate between the
systems within each round, and each is printed as the median and the range of the rounds, so
a noisy minute on the machine weighs on every system alike.

- journaled step: a whole process running one run of 1,000 trivial steps, minus one running a
  run of 0 steps, per step; beside a raw psycopg INSERT (autocommit: the statement and its
  COMMIT in one round trip, as a journal write is) and BEGIN + INSERT + COMMIT, and beside
  DBOS Transact's `@DBOS.step()` measured the same way.
- runs/s: 200 five-step runs sent in one transaction to 1, 2 and 4 idle workers (separate
  processes); from the send to the last run's end in the journal. DBOS: 200 workflows started
  at once in one process, from the first start to the last result.
- event sent -> run started, one idle worker (LISTEN/NOTIFY): the step's clock minus the
  moment before the send.
- SIGKILLed worker -> its in-flight step running again on another worker (default lease).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from pg_harness import Workers, child_env, cpu_s, server_cpu_s, spread, until, whole_process  # noqa: E402
from pg_support import PgServer, pg_bindir  # noqa: E402 - the test suite's throw-away server
from throughput import WORKFLOWS  # noqa: E402

from durable_cli.engine import actions  # noqa: E402

PROCS = str(HERE / "pg_procs.py")
DURABLE = str(Path(sys.executable).with_name("durable"))
LEASE_S = 5.0  # durable worker's default
# throughput.py's five-step workflow, and what the latency and takeover figures run
WORKFLOW = WORKFLOWS["def"] + textwrap.dedent(
    """
    import os, time

    @durable.function(id="ping", trigger="bench/ping")
    def ping(event, step):
        return step.run("clock", time.time)

    def hang():
        # the first attempt notes its pid and hangs until its worker is killed
        mark = os.environ["BENCH_MARK"]
        with open(mark, "a") as f:
            f.write(f"{time.time()} {os.getpid()}\\n")
        with open(mark) as f:
            first = len(f.read().splitlines()) == 1
        if first:
            time.sleep(120)
        return 1

    @durable.function(id="victim", trigger="bench/victim")
    def victim(event, step):
        step.run("before", lambda: 0)
        return step.run("hang", hang)
    """
)


def has_dbos() -> bool:
    """Whether DBOS Transact is installed in this interpreter."""
    try:
        import dbos  # noqa: F401
    except ImportError:
        return False
    return True


def worker_command(url: str, path: str) -> list[str]:
    """The command line of one worker: `durable worker` (default lease and concurrency), or
    with --engine-workers a bare engine process (no CLI, no log lines)."""
    if ENGINE_WORKERS:
        return [sys.executable, PROCS, "worker", url, path, "--lease", str(LEASE_S)]
    return [DURABLE, "worker", path, "--database-url", url]


ENGINE_WORKERS = False  # set in main()


# -- the figures -------------------------------------------------------------------------------
def raw_insert_us(url: str, rows: int, *, autocommit: bool) -> float:
    """µs per raw psycopg INSERT + COMMIT of a step-sized JSON row."""
    import psycopg

    payload = '{"run_id":"r","id":"s","seq":1,"status":"completed","output":1}'
    with psycopg.connect(url, autocommit=autocommit) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS raw (k text, seq int, v json, PRIMARY KEY (k, seq))"
        )
        con.commit()
        key = f"{time.time_ns()}"
        started = time.perf_counter()
        for i in range(rows):
            con.execute("INSERT INTO raw VALUES (%s, %s, %s::json)", (key, i, payload))
            if not autocommit:
                con.commit()
        return (time.perf_counter() - started) / rows * 1e6


def steps_round(server: PgServer, steps: int, dbos: bool, tries: int = 3) -> dict[str, float]:
    """One round of the per-step figures, the systems alternating. Each whole-process time is
    the best of `tries` (alternating the long and the empty run): a process start-up varies by
    more than a thousand steps cost."""
    found: dict[str, float] = {}
    url = server.new_database()
    for name in ("durable", "dbos") if dbos else ("durable",):
        what = "steps" if name == "durable" else "dbos-steps"
        db = url if name == "durable" else DBOS_URL[0]
        full, empty = [], []
        for _ in range(tries):
            full.append(whole_process([sys.executable, PROCS, what, db, str(steps)]))
            empty.append(whole_process([sys.executable, PROCS, what, db, "0"]))
        found[name] = (min(full) - min(empty)) / steps * 1e6
    found["raw"] = raw_insert_us(url, steps, autocommit=True)
    found["raw3"] = raw_insert_us(url, steps, autocommit=False)
    return found


DBOS_URL: list[str] = []  # one database for DBOS's schema, made once


def runs_per_s(server: PgServer, path: str, workers: int, runs: int) -> tuple[float, float, float]:
    """Runs/s of `runs` five-step runs sent at once to `workers` idle workers, and the CPU
    seconds per run the workers and the server used meanwhile (ms)."""
    url = server.new_database()
    with Workers(server, url, worker_command(url, path), workers) as pool:
        store = pool.store
        events = [actions.make_event("bench/go", {"n": i}) for i in range(runs)]
        cpu = [sum(cpu_s(p.pid) for p in pool.procs), server_cpu_s(server)]
        sent = time.time()
        with store.batch():
            for event in events:
                store.put_event(event)

        # a cheap count, not often: the workers share the cores with this poll
        until(lambda: _finished(url) == runs, 300, "the runs to finish", every=0.05)
        cpu[0] = sum(cpu_s(p.pid) for p in pool.procs) - cpu[0]
        cpu[1] = server_cpu_s(server) - cpu[1]
        finished = list(store.list_runs())
    assert all(r.status == "completed" and r.output == r.event["data"]["n"] + 5 for r in finished)
    last = max(r.ended_at or 0 for r in finished) / 1000
    return runs / (last - sent), cpu[0] / runs * 1000, cpu[1] / runs * 1000


def _finished(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        return con.execute(
            "SELECT count(*) FROM durable.runs WHERE status IN ('completed', 'failed', 'cancelled')"
        ).fetchone()[0]


def dbos_runs_per_s(runs: int) -> float:
    """DBOS: runs/s of `runs` five-step workflows started at once in one process."""
    done = subprocess.run(
        [sys.executable, PROCS, "dbos-runs", DBOS_URL[0], str(runs)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"dbos-runs failed: {done.stderr.strip()[-2000:]}")
    return runs / float(done.stdout.split()[-1])


def intake_latency_ms(server: PgServer, path: str, events: int) -> list[float]:
    """ms from before each send to its run's first step, one idle worker."""
    url = server.new_database()
    figures = []
    with Workers(server, url, worker_command(url, path), 1) as pool:
        store = pool.store
        for i in range(events):
            time.sleep(random.uniform(0.05, 0.25))  # the worker goes idle between events
            event = actions.make_event("bench/ping", {"i": i})
            sent = time.time()
            store.put_event(event)
            until(lambda e=event: _started(store, e["id"]), 30, "the run to start")
            figures.append((_started(store, event["id"]) - sent) * 1000)  # type: ignore[operator]
    return figures


def _started(store: object, event_id: str) -> float | None:
    for run in store.list_runs(limit=3):  # type: ignore[attr-defined]
        if run.event["id"] == event_id:
            steps = store.load_steps(run.id)  # type: ignore[attr-defined]
            return steps[0].output if steps and steps[0].status == "completed" else None
    return None


def recovery_s(server: PgServer, path: str, tmp: Path, trial: int) -> float:
    """Seconds from SIGKILLing the worker inside a step to that step starting on another."""
    url = server.new_database()
    mark = tmp / f"mark-{trial}"
    # workers started and killed at random moments of their renewal cycles, as in real life
    with Workers(
        server, url, worker_command(url, path), 2, stagger=LEASE_S / 3, BENCH_MARK=str(mark)
    ) as pool:
        time.sleep(random.uniform(0, LEASE_S / 3))
        actions.queue_event(pool.store, "bench/victim", {})
        until(lambda: mark.exists() and mark.read_text().count("\n") >= 1, 30, "the step")
        pid = int(mark.read_text().split()[1])
        killed = time.time()
        os.kill(pid, signal.SIGKILL)
        until(lambda: mark.read_text().count("\n") >= 2, LEASE_S * 6, "the step again")
        again = float(mark.read_text().splitlines()[1].split()[0])
    return again - killed


def main() -> int:
    """Start the server, measure, print."""
    global ENGINE_WORKERS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each figure")
    parser.add_argument("--only", default="steps,runs,latency,recovery")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--events", type=int, default=30, help="latency samples per round")
    parser.add_argument(
        "--engine-workers",
        action="store_true",
        help="workers as bare engine processes (pg_procs.py) instead of `durable worker`",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    bindir = pg_bindir()
    if bindir is None:
        print("no PostgreSQL server binaries (pg_config --bindir; Debian's postgresql)")
        return 2
    dbos = has_dbos()
    if not dbos:
        print("DBOS Transact not installed: skipped (pip install dbos)")
    ENGINE_WORKERS = args.engine_workers
    server = PgServer(bindir)
    with tempfile.TemporaryDirectory(prefix="durable-pg-bench-") as raw:
        tmp = Path(raw)
        path = str(tmp / "bench_flow.py")
        Path(path).write_text(WORKFLOW)
        try:
            server.start()
            server.prepare_template()
            if dbos:
                DBOS_URL.append(server.new_database(schema=False))
            print(
                f"PostgreSQL at 127.0.0.1:{server.port} (throw-away, fsync off), {os.cpu_count()}"
                f" cores, load {os.getloadavg()[0]:.1f}; workers:"
                f" {'engine processes (pg_procs.py)' if ENGINE_WORKERS else 'durable worker'}"
            )
            measure(server, path, tmp, args, only, dbos)
        finally:
            server.cleanup()
    return 0


def measure(
    server: PgServer, path: str, tmp: Path, args: argparse.Namespace, only: set[str], dbos: bool
) -> None:
    """Every figure asked for, `args.rounds` times each."""
    # warm the bytecode cache (and DBOS's schema) with an untimed process of each kind
    whole_process([sys.executable, PROCS, "steps", server.new_database(), "1"])
    if dbos:
        whole_process([sys.executable, PROCS, "dbos-steps", DBOS_URL[0], "1"])
    if "steps" in only:
        rounds = [steps_round(server, args.steps, dbos) for _ in range(args.rounds)]
        get = {k: [r[k] for r in rounds] for k in rounds[0]}
        ratio = [r["durable"] / r["raw"] for r in rounds]
        print(
            f"journaled step ({args.steps:,}-step run minus 0-step run, whole process):"
            f" {spread(get['durable'], ' µs')}"
        )
        print(f"  raw psycopg INSERT, autocommit (one round trip): {spread(get['raw'], ' µs')}")
        print(f"  raw psycopg BEGIN + INSERT + COMMIT: {spread(get['raw3'], ' µs')}")
        ratio3 = [r["durable"] / r["raw3"] for r in rounds]
        print(f"  durable / raw autocommit INSERT: {spread(ratio, 'x', 2)} (target ≤ 2x)")
        print(f"  durable / raw BEGIN + INSERT + COMMIT: {spread(ratio3, 'x', 2)}")
        if dbos:
            fewer = [r["dbos"] / r["durable"] for r in rounds]
            print(f"  DBOS Transact @DBOS.step(), same way: {spread(get['dbos'], ' µs')}")
            print(f"  DBOS / durable: {spread(fewer, 'x', 1)} (target ≥ 5x)")
    if "runs" in only:
        rates: dict[str, list[float]] = {}
        cpus: dict[str, list[tuple[float, float]]] = {}
        for _ in range(args.rounds):
            for workers in (1, 2, 4):
                rate, mine, theirs = runs_per_s(server, path, workers, args.runs)
                name = f"{workers} worker{'s' if workers > 1 else ''}"
                rates.setdefault(name, []).append(rate)
                cpus.setdefault(name, []).append((mine, theirs))
            if dbos:
                rates.setdefault("DBOS, one process", []).append(dbos_runs_per_s(args.runs))
        for name, values in rates.items():
            print(f"{args.runs} five-step runs, {name}: {spread(values, ' runs/s')}")
            if name in cpus:
                mine = [c[0] for c in cpus[name]]
                theirs = [c[1] for c in cpus[name]]
                busy = [(a + b) * r / 1000 for (a, b), r in zip(cpus[name], values, strict=True)]
                print(
                    f"  CPU per run: workers {spread(mine, ' ms', 2)}, server"
                    f" {spread(theirs, ' ms', 2)}; cores kept busy {spread(busy, '', 2)}"
                )
        two = [b / a for a, b in zip(rates["1 worker"], rates["2 workers"], strict=True)]
        print(f"  2 workers / 1 worker: {spread(two, 'x', 2)} (target ≥ 1.3x)")
        if dbos:
            dbos_rates = rates["DBOS, one process"]
            ten = [b / a for a, b in zip(dbos_rates, rates["2 workers"], strict=True)]
            print(f"  2 workers / DBOS: {spread(ten, 'x', 1)} (target ≥ 10x)")
    if "latency" in only:
        lat = [intake_latency_ms(server, path, args.events) for _ in range(args.rounds)]
        p50 = [statistics.median(one) for one in lat]
        p90 = [sorted(one)[int(len(one) * 0.9)] for one in lat]
        print(
            f"event sent -> run started, idle worker: p50 {spread(p50, ' ms', 1)},"
            f" p90 {spread(p90, ' ms', 1)} (target p50 ≤ 25 ms)"
        )
    if "recovery" in only:
        took = [recovery_s(server, path, tmp, i) for i in range(max(3 * args.rounds, 5))]
        print(
            f"SIGKILLed worker -> its step running again on another (lease {LEASE_S:g} s):"
            f" p50 {statistics.median(took):.2f} s, range {min(took):.2f}-{max(took):.2f} s"
            f" over {len(took)} trials (target ≤ lease + 1 s)"
        )


if __name__ == "__main__":
    sys.exit(main())
