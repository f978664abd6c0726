"""Many `durable worker` processes on one PostgreSQL database, and what they did.

The workflows (workflows/pg_flows.py) write one line per real step call to calls/pg.log:
`key<TAB>pid`. A test starts workers, sends events, polls the database under a deadline, and
reads that log to see which worker ran what and whether anything ran twice.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from cli_support import Project, Runner
from helpers import wait_until

from durable_cli.store import RunRecord, open_database

LEASE_S = 1.0  # short, so a dead worker's runs move on quickly; renewed every third of it


class Workers:
    """`durable worker` processes of one project on the database at `url`."""

    def __init__(self, project: Project, url: str) -> None:
        self.project = project
        self.url = url
        self.store = open_database(url)  # the test's own view of the database
        self.procs: list[Runner] = []

    def close(self) -> None:
        """Stop every worker still running (SIGKILL) and close the test's store."""
        for runner in self.procs:
            if runner.proc.poll() is None:
                runner.proc.kill()
                runner.wait(10)
        self.store.close()

    def start(self, n: int, *args: str, wait: bool = True) -> list[Runner]:
        """Start `n` workers (`durable worker ARGS --database-url URL --lease 1`); with `wait`,
        return once every worker still running holds a live lease."""
        started = [
            self.project.start("worker", *args, "--database-url", self.url, "--lease", str(LEASE_S))
            for _ in range(n)
        ]
        self.procs += started
        if wait:
            wanted = sum(r.proc.poll() is None for r in self.procs)
            wait_until(lambda: self.live() >= wanted, 30, what=f"{wanted} live workers")
        return started

    def live(self) -> int:
        """How many workers hold a live lease now."""
        return sum(1 for info in self.store.leases.runners().values() if info["live"])

    def send(self, name: str, data: dict[str, Any]) -> str:
        """`durable_cli.send` to the database."""
        import durable_cli

        return durable_cli.send(name, data, database_url=self.url)

    def runs(self, function: str | None = None) -> list[RunRecord]:
        """Every run (of `function`), newest first."""
        return list(self.store.list_runs(function=function))

    def wait_finished(self, n: int, timeout: float = 60.0, function: str | None = None) -> None:
        """Wait until `n` runs (of `function`) have completed."""

        def done() -> bool:
            return sum(r.status == "completed" for r in self.runs(function)) >= n

        wait_until(done, timeout, interval=0.1, what=f"{n} completed runs; {self.summary()}")

    def summary(self) -> str:
        """Runs per status, for failure messages."""
        return str(Counter(r.status for r in self.runs()))

    def calls(self) -> list[tuple[str, int]]:
        """Every real step call so far: (key, pid)."""
        log = self.project.root / "calls" / "pg.log"
        if not log.exists():
            return []
        lines = [line.split("\t") for line in log.read_text().splitlines()]
        return [(key, int(pid)) for key, pid in lines]

    def wait_calls(self, predicate: Callable[[list[tuple[str, int]]], Any], what: str) -> Any:
        """Poll the call log until `predicate(calls)` holds; its value."""
        return wait_until(lambda: predicate(self.calls()), 60, interval=0.05, what=what)

    def stop_all(self) -> list[int]:
        """SIGTERM every worker still up; their exit codes."""
        alive = [r for r in self.procs if r.proc.poll() is None]
        for runner in alive:
            runner.proc.send_signal(signal.SIGTERM)
        return [runner.wait(30) for runner in alive]


def elapsed_until(condition: Callable[[], Any], timeout: float, what: str) -> float:
    """Seconds until `condition()` holds (polled every 20 ms)."""
    start = time.monotonic()
    wait_until(condition, timeout, interval=0.02, what=what)
    return time.monotonic() - start
