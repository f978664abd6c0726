"""A chaos campaign: kill -9 `durable dev` again and again while runs go on, then audit.

Each cycle starts the real `durable dev --headless --until-idle` on `chaos_flow.py`, sends the
cycle's share of events (the runner may be up or still starting), and kills the runner at a
random point: either a fault point inside the runner (see chaos_flow.py) or, from outside,
once the side-effect log has grown by a random few lines. A last runner, unharmed, finishes
the rest. Then the journal, the side-effect log and the sent events are held against the
promises: every run completed; each step's result journaled exactly once; each step's side
effect ran at most 1 + (kills inside that step) times; no event lost or run twice.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger import HERE, Ledger, Report

__all__ = ["FLOW", "WEIGHTS", "Campaign", "Report", "run_campaign"]

FLOW = HERE / "chaos_flow.py"
DURABLE = Path(sys.executable).with_name("durable")
# how a kill is chosen: a fault point inside the runner, or "outside" (after a few side effects)
WEIGHTS = {
    "claim": 10,
    "step-returned": 20,
    "claimed": 5,
    "step-committed": 10,
    "in-step": 10,
    "run-ending": 7,
    "run-ended": 8,
    "outside": 30,
}
CYCLE_TIMEOUT_S = 60.0


class Campaign:
    """One state dir, one side-effect log, many runner lives."""

    def __init__(
        self, work: Path, *, runs: int, steps: int, kills: int, seed: int, kind: str = "def"
    ) -> None:
        """Lay out the files; nothing runs yet (`kind`: a `def` or an `async` workflow)."""
        self.work = work
        self.state = work / "state"
        self.runs, self.steps, self.target, self.kind = runs, steps, kills, kind
        self.rng = random.Random(seed)
        self.report = Report(runs=runs, steps=steps)
        self.ledger = Ledger(work, runs=runs, steps=steps, journal=self._journal)
        self.sent: list[str] = []
        self._seen: Counter[tuple[str, int]] = Counter()  # executions at the previous kill
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
        self.env.update(self.ledger.env(), CHAOS_STEPS=str(steps), CHAOS_KIND=kind)

    # -- the cycles ---------------------------------------------------------------------------
    def run(self) -> Report:
        """Kill the runner `kills` times (fewer if the work runs out first), finish, audit."""
        started = time.monotonic()
        # events go out over the first 60% of the cycles, so intake is killed too
        sending_cycles = max(1, int(self.target * 0.6))
        cycle = 0
        while self.report.total_kills < self.target:
            batch = self._batch(cycle, sending_cycles)
            if not batch and self._all_done():
                break  # the work ran out before the kills did
            self._cycle(batch, cycle)
            cycle += 1
        self._finish()
        self.report.seconds = time.monotonic() - started
        self._audit()
        return self.report

    def _batch(self, cycle: int, sending_cycles: int) -> list[int]:
        first = len(self.sent)
        upto = min(self.runs, -(-self.runs * (cycle + 1) // sending_cycles))
        return list(range(first, max(first, upto)))

    def _point(self, batch: list[int], cycle: int) -> str:
        # the first cycles visit every point once (intake ones need events to claim), then
        # the points are drawn at random
        for point in list(WEIGHTS)[cycle:] if cycle < len(WEIGHTS) else ():
            if point not in ("claim", "claimed") or batch:
                return point
        while True:
            point = self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
            if point not in ("claim", "claimed") or batch:
                return point

    def _start(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        self.report.starts += 1
        cmd = [str(DURABLE), "dev", "--headless", "--until-idle", "--idle-wait", "0.2"]
        cmd += ["--no-watch", "--state-dir", str(self.state), str(FLOW)]
        return subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.work
        )

    def _cycle(self, batch: list[int], cycle: int) -> None:
        point = self._point(batch, cycle)
        env = dict(self.env)
        if point != "outside":
            most = {"claim": len(batch), "claimed": 1, "run-ending": 2, "run-ended": 2}
            nth = self.rng.randint(1, most.get(point, 4))
            env["DURABLE_TEST_CRASH_AT"] = f"{point}:{nth}"
        # every cycle also has a kill from outside, so no cycle can run all the work
        budget = self.rng.randint(1, 4) if point == "outside" else self.rng.randint(4, 8)
        if self.kind == "async" and point != "outside":
            # async runs take their steps together: a round writes a line for every run in
            # flight before any of them is committed, so the fault point needs more room
            budget += self.runs
        base = self.ledger.effect_lines()
        kills_before = self.ledger.kill_lines()
        proc = self._start(env)
        for i in batch:
            self._send(i)
        deadline = time.monotonic() + CYCLE_TIMEOUT_S
        while proc.poll() is None:
            if self.ledger.effect_lines() - base >= budget:
                proc.send_signal(signal.SIGKILL)
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("a runner neither finished nor died within a minute")
            time.sleep(0.001)  # polling the side-effect log for the kill condition
        code = proc.wait(30)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if code == -signal.SIGKILL:
            landed = self.ledger.kill_lines() > kills_before
            self.report.kills[point if landed else "outside"] += 1
            self._note_kill()
        elif code == 0:
            self.report.clean_exits += 1
        else:
            raise AssertionError(f"runner exited {code}: {err.strip()[-2000:]}")

    def _send(self, index: int) -> None:
        # half through the Python API, half through the `durable send` command
        event_id = f"chaos-{index:04d}"
        data = f'{{"tag": "e{index:04d}"}}'
        if index % 2:
            import durable_cli

            durable_cli.send(
                "chaos/go", {"tag": f"e{index:04d}"}, state_dir=str(self.state), id=event_id
            )
        else:
            done = subprocess.run(
                [str(DURABLE), "send", "chaos/go", "--data", data, "--id", event_id],
                env={**self.env, "DURABLE_STATE_DIR": str(self.state)},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0 and done.stdout.strip() == event_id, done.stderr
        self.sent.append(event_id)

    def _finish(self) -> None:
        proc = self._start(dict(self.env))
        try:
            code = proc.wait(300)
        finally:
            if proc.poll() is None:
                proc.kill()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        assert code == 0, f"the last runner exited {code}: {err.strip()[-2000:]}"

    # -- bookkeeping --------------------------------------------------------------------------
    @contextmanager
    def _journal(self) -> Iterator[Any]:
        from durable_cli.store import open_store

        store = open_store(str(self.state), create=False) if self.state.exists() else None
        try:
            yield store
        finally:
            if store is not None:
                store.close()

    def _note_kill(self) -> None:
        """A step was inside this kill if it ran since the last one and is not journaled."""
        ran = self.ledger.executions()
        self.ledger.note_kill(ran, self._seen)
        self._seen = ran

    def _all_done(self) -> bool:
        return self.ledger.all_done(len(self.sent))

    def _audit(self) -> None:
        self.ledger.audit(self.report, self.sent)


def run_campaign(
    work: Path, *, runs: int, steps: int, kills: int, seed: int, kind: str = "def"
) -> Report:
    """Run one campaign in `work` (an empty folder) and return its report."""
    return Campaign(work, runs=runs, steps=steps, kills=kills, seed=seed, kind=kind).run()
