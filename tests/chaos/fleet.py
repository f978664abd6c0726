"""A chaos campaign on PostgreSQL: several `durable worker`s SIGKILLed again and again, and the
database restarted, while runs go on; then the audit of ledger.py.

`workers` workers run at once on one database, each a real `durable worker` process on
`chaos_flow.py`. Each worker life is armed with a fault point (see chaos_flow.py) at which it
kills itself, or is left to be killed from outside: once the side-effect log has grown by a
random few lines, the campaign SIGKILLs a random live worker. Every dead worker is replaced at
once; its runs wait for its lease to lapse and are resumed by whichever worker sweeps first.
Events go out over the first 60% of the kills (half with `durable send --database-url`, half
with `durable_cli.send(database_url=...)`); the database restarts (a crash: `pg_ctl restart -m
immediate`, or whatever `restart` does) are spread over the campaign. Then unarmed workers
finish the rest and the journal is audited.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign import FLOW, WEIGHTS
from ledger import Ledger, Report

__all__ = ["Fleet", "run_fleet"]

DURABLE = Path(sys.executable).with_name("durable")
STUCK_S = 120.0  # no kill and no side effect for this long: the campaign is stuck
IDLE_S = 1.0  # no kill and no side effect for this long (plus leases): is all sent work done?
# no kill for this long: kill a worker that has been up as long, busy or not (its sweeps, claims
# and renewals get killed too, and the work can't run out long before the kills do)
PAUSE_S = 3.0


@dataclass
class Life:
    """One worker process, armed with the fault point it is to die at ("outside": none)."""

    proc: subprocess.Popen[bytes]
    point: str
    err: Path  # its stderr
    started: float  # time.monotonic()


class Fleet:
    """One database, one side-effect log, many worker lives at once."""

    def __init__(
        self,
        work: Path,
        url: str,
        *,
        workers: int,
        runs: int,
        steps: int,
        kills: int,
        restarts: int,
        restart: Callable[[], None] | None,
        seed: int,
        lease: float = 1.0,
        concurrency: int = 3,
        kind: str = "def",
    ) -> None:
        """Lay out the files; nothing runs yet. `restart()` restarts the database server;
        `lease` and `concurrency` are each worker's (a few runs in flight per worker: a kill
        from outside lands after a few side effects, not after a burst of a dozen)."""
        self.work, self.url, self.lease, self.concurrency = work, url, lease, concurrency
        self.runs, self.steps, self.target = runs, steps, kills
        self.restart_at = [kills * (i + 1) // (restarts + 1) for i in range(restarts)]
        self.restart = restart
        self.rng = random.Random(seed)
        self.report = Report(runs=runs, steps=steps, workers=workers)
        self.ledger = Ledger(work, runs=runs, steps=steps, journal=self._journal)
        self.sent: list[str] = []
        self.lives: list[Life] = []
        self.slots = workers
        self._lives_started = 0
        self._restarted = 0.0  # when the last database restart ended (time.monotonic())
        self._next_look = 0.0
        self._last_kill = time.monotonic()
        self._store: Any = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
        self.env.update(
            self.ledger.env(), CHAOS_STEPS=str(steps), CHAOS_KIND=kind, CHAOS_STORE="postgres"
        )

    @contextmanager
    def _journal(self) -> Iterator[Any]:
        """The campaign's own store on the database, opened once (it rides out restarts)."""
        if self._store is None:
            from durable_cli.store import open_database

            self._store = open_database(self.url, create=False)
        yield self._store

    def close(self) -> None:
        """Close the campaign's store."""
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- the campaign -------------------------------------------------------------------------
    def run(self) -> Report:
        """Kill workers `kills` times (fewer if the work runs out first), finish, audit."""
        with self._journal() as store:
            held = store.count_runs() + store.queued_count()
        assert held == 0, "the database holds runs or events already: give an empty one"
        started = time.monotonic()
        sending_kills = max(1, int(self.target * 0.6))  # intake is killed too
        for _ in range(self.slots):
            self._start(armed=True)
        budget, base = self._budget(), self.ledger.effect_lines()
        progress, last, ahead = time.monotonic(), (0, base), 0
        while self.report.total_kills < self.target:
            kills = self.report.total_kills
            upto = -(-self.runs * (kills + 1) // sending_kills)
            self._send_upto(min(self.runs, max(upto, ahead)))
            if self.restart_at and self.report.total_kills >= self.restart_at[0]:
                self.restart_at.pop(0)
                self._restart()
            for life in list(self.lives):
                if life.proc.poll() is not None:
                    self._died(life)
                    self._start(armed=True)
            lines = self.ledger.effect_lines()
            paused = time.monotonic() - self._last_kill > PAUSE_S
            if lines - base >= budget or paused:
                self._kill_from_outside(paused=paused)
                budget, base = self._budget(), lines
            now = (self.report.total_kills, lines)
            idle = time.monotonic() - progress
            if now != last:
                progress, last = time.monotonic(), now
            elif idle > IDLE_S + 2 * self.lease and self._sent_done():
                if len(self.sent) == self.runs:
                    break  # the work ran out before the kills did
                # the workers wait at points only more work reaches: send more
                ahead = len(self.sent) + 1
                progress = time.monotonic()
            elif idle > STUCK_S:
                raise AssertionError(f"no kill and no side effect for {STUCK_S:.0f}s\n{self}")
            time.sleep(0.002)  # polling the workers and the side-effect log
        self._send_upto(self.runs)
        while self.restart_at:  # the work ran out first: the restarts still happen
            self.restart_at.pop(0)
            self._restart()
        self._finish()
        self.report.seconds = time.monotonic() - started
        self.ledger.audit(self.report, self.sent)
        return self.report

    def _sent_done(self) -> bool:
        """Whether every sent event's run completed (looked up at most twice a second)."""
        if time.monotonic() < self._next_look:
            return False
        self._next_look = time.monotonic() + 0.5
        return self._finished() and len(self.ledger.journaled()) == len(self.sent) * self.steps

    def __str__(self) -> str:
        """Where things stand: the lives and the runs (for a stuck campaign's message)."""
        with self._journal() as store:
            runs = Counter(run.status for run in store.list_runs())
            runners = store.leases.runners()
        lives = ", ".join(f"{life.proc.pid}:{life.point}" for life in self.lives)
        return f"sent {len(self.sent)}; runs {dict(runs)}; lives {lives}; runners {runners}"

    def _budget(self) -> int:
        return self.rng.randint(1, 2)

    def _point(self) -> str:
        # the first lives visit every point once, then the points are drawn at random
        if self._lives_started < len(WEIGHTS):
            return list(WEIGHTS)[self._lives_started]
        return self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]

    def _start(self, *, armed: bool) -> None:
        point = self._point() if armed else "outside"
        self._lives_started += 1
        env = dict(self.env)
        if point != "outside":
            most = {"claim": 3, "claimed": 1, "run-ending": 2, "run-ended": 2}
            env["DURABLE_TEST_CRASH_AT"] = f"{point}:{self.rng.randint(1, most.get(point, 3))}"
        cmd = [str(DURABLE), "worker", str(FLOW), "--database-url", self.url]
        cmd += ["--lease", str(self.lease), "--concurrency", str(self.concurrency)]
        err = self.work / f"worker-{self._lives_started}.err"
        # stderr to a file: a pipe nobody reads would stop a talkative worker when it fills
        with err.open("wb") as sink:
            proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=sink, cwd=self.work
            )
        self.report.starts += 1
        self.lives.append(Life(proc, point, err, time.monotonic()))

    def _kill_from_outside(self, *, paused: bool) -> None:
        live = [life for life in self.lives if life.proc.poll() is None]
        if paused:  # a worker up for a while, unarmed if any (an armed one waits for its point)
            live = [life for life in live if life.started < time.monotonic() - PAUSE_S]
            live = [life for life in live if life.point == "outside"] or live
        else:  # the worker that ran the latest side effect: a kill that interrupts work
            live = [life for life in live if life.proc.pid == self.ledger.last_pid()] or live
        if not live:
            return
        life = self.rng.choice(live)
        at = time.time()
        life.proc.send_signal(signal.SIGKILL)
        life.proc.wait(30)
        self._died(life, at)
        self._start(armed=True)

    def _died(self, life: Life, at: float | None = None) -> None:
        """Count a worker's death (a kill, wherever it landed: `at`, when we sent it) and what
        it interrupted."""
        self.lives.remove(life)
        code = life.proc.returncode
        if code != -signal.SIGKILL:
            text = life.err.read_text(errors="replace")
            if life.started < self._restarted and "can't reach PostgreSQL" in text:
                return  # it was starting when the database went down: a worker then exits
            raise AssertionError(f"a worker exited {code}: {text.strip()[-2000:]}")
        landed = self.ledger.kills_of(life.proc.pid)
        if landed:  # its fault point came first
            point, at = landed[0]
        else:
            point = "outside"
        assert at is not None, f"worker {life.proc.pid} was killed, and not by us"
        self.report.kills[point] += 1
        self._last_kill = time.monotonic()
        self.ledger.note_death(life.proc.pid, at)

    def _restart(self) -> None:
        if self.restart is not None:
            self.restart()
            self.report.restarts += 1
            self._restarted = time.monotonic()

    def _send_upto(self, upto: int) -> None:
        while len(self.sent) < upto:
            self._send(len(self.sent))

    def _send(self, index: int) -> None:
        # half through the Python API, half through the `durable send` command
        event_id, tag = f"chaos-{index:04d}", f"e{index:04d}"
        if index % 2:
            import durable_cli

            durable_cli.send("chaos/go", {"tag": tag}, database_url=self.url, id=event_id)
        else:
            data = f'{{"tag": "{tag}"}}'
            done = subprocess.run(
                [str(DURABLE), "send", "chaos/go", "--data", data, "--id", event_id],
                env={**self.env, "DURABLE_DATABASE_URL": self.url},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0 and done.stdout.strip() == event_id, done.stderr
        self.sent.append(event_id)

    def _finish(self) -> None:
        """Stop the armed workers, then unarmed ones finish the work; all stop cleanly."""
        self._stop(list(self.lives))
        for _ in range(self.slots):
            self._start(armed=False)
        deadline = time.monotonic() + STUCK_S + self.lease
        while not (self._registered() and self._finished()):
            for life in self.lives:
                assert life.proc.poll() is None, f"a finishing worker exited {life.proc.returncode}"
            assert time.monotonic() < deadline, "the unarmed workers did not finish the work"
            time.sleep(0.05)  # polling the journal
        self._stop(list(self.lives))

    def _stop(self, lives: list[Life]) -> None:
        """SIGTERM: a worker gives its runs up at once, so a step it was running may run again
        elsewhere; that counts as a death at the signal (unless its fault point came first)."""
        serving = self._serving()
        at = time.time()
        for life in lives:
            life.proc.send_signal(signal.SIGTERM)
        for life in lives:
            code = life.proc.wait(60)
            if code == -signal.SIGKILL and life.point != "outside":
                self._died(life)  # its fault point came while it stopped
                continue
            self.lives.remove(life)
            self.ledger.note_death(life.proc.pid, at)
            if code == -signal.SIGTERM and life.proc.pid not in serving:
                continue  # still starting up: it had not set its handler yet
            assert code == 0, f"worker {life.proc.pid} exited {code} on SIGTERM"
            self.report.clean_exits += 1

    def _serving(self) -> set[int]:
        """The pids of the workers that hold a lease (they handle SIGTERM from then on)."""
        with self._journal() as store:
            return {info["pid"] for info in store.leases.runners().values() if info["live"]}

    def _registered(self) -> bool:
        """Whether every live worker holds a lease."""
        serving = self._serving()
        return all(life.proc.pid in serving for life in self.lives)

    def _finished(self) -> bool:
        with self._journal() as store:
            runs = list(store.list_runs())
            queued = store.queued_count()
        return len(runs) >= len(self.sent) and not queued and all(r.finished for r in runs)


def run_fleet(work: Path, url: str, **kwargs: Any) -> Report:
    """Run one campaign in `work` (an empty folder) on the (empty) database at `url`."""
    fleet = Fleet(work, url, **kwargs)
    try:
        return fleet.run()
    finally:
        for life in fleet.lives:  # a campaign that failed leaves no worker behind
            if life.proc.poll() is None:
                life.proc.kill()
                life.proc.wait()
        fleet.close()
