"""What benchmarks/postgres.py measures with: timed processes, worker processes on a database,
polling under a deadline, CPU seconds of processes and of a PostgreSQL server, and figures
printed as median and range."""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from durable_cli.store import open_database

__all__ = [
    "Workers",
    "child_env",
    "cpu_s",
    "server_cpu_s",
    "spread",
    "until",
    "whole_process",
]

PYCACHE = tempfile.TemporaryDirectory(prefix="durable-pg-bench-pycache-")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of the processes we time: a bytecode cache, as an installed user has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PYTHONPYCACHEPREFIX=PYCACHE.name, **extra)
    return env


def whole_process(cmd: list[str]) -> float:
    """Seconds from launching `cmd` to its exit (which must be clean)."""
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {done.stderr.strip()[-2000:]}")
    return elapsed


def until(condition: Callable[[], object], timeout: float, what: str, every: float = 0.005) -> None:
    """Poll `condition` every `every` seconds under a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every)


def spread(values: list[float], unit: str = "", digits: int = 0) -> str:
    """`median (range lo-hi)` of a figure's rounds."""
    med, lo, hi = statistics.median(values), min(values), max(values)
    return f"{med:,.{digits}f}{unit} (range {lo:,.{digits}f}-{hi:,.{digits}f})"


class Workers:
    """Worker processes on one database, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(
        self, server: Any, url: str, command: list[str], count: int, stagger: float = 0, **env: str
    ) -> None:
        """Start `count` workers (a random pause of up to `stagger` s before each after the
        first) and wait until each has registered and listens."""
        self.procs = []
        for i in range(count):
            if i and stagger:
                time.sleep(random.uniform(0, stagger))  # workers that renew out of step
            self.procs.append(
                subprocess.Popen(
                    command,
                    env=child_env(**env),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
        self.store = open_database(url)
        until(lambda: self.live() >= count, 60, f"{count} workers to register")
        dbname = url.rsplit("/", 1)[1]
        until(lambda: _listening(server, dbname) >= count, 60, f"{count} workers to LISTEN")

    def live(self) -> int:
        """Runners with a live lease."""
        for proc in self.procs:
            if proc.poll() not in (None, -signal.SIGKILL):
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise SystemExit(f"a worker exited {proc.returncode}: {err.strip()[-2000:]}")
        return sum(1 for info in self.store.leases.runners().values() if info["live"])

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.store.close()


def _listening(server: Any, dbname: str) -> int:
    import psycopg

    with psycopg.connect(server.url(dbname), autocommit=True) as con:
        return con.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'LISTEN%%'",
            (dbname,),
        ).fetchone()[0]


def cpu_s(pid: int, *, children: bool = False) -> float:
    """CPU seconds process `pid` used so far (with `children`, its reaped children's too)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11 : 15 if children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu_s(server: Any) -> float:
    """CPU seconds the PostgreSQL server used so far: the postmaster, the backends it reaped,
    and the ones still running."""
    postmaster = int(Path(server.data, "postmaster.pid").read_text().split()[0])
    total = cpu_s(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if parent == postmaster:
                total += cpu_s(int(stat.parent.name))
        except (OSError, ValueError):  # gone meanwhile
            continue
    return total
