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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
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


@dataclass
class Report:
    """What a campaign did and found."""

    runs: int
    steps: int
    kills: Counter[str] = field(default_factory=Counter)
    starts: int = 0
    clean_exits: int = 0
    seconds: float = 0.0
    completed: int = 0
    journaled_once: int = 0
    journal_problems: list[str] = field(default_factory=list)
    executions: int = 0
    reexecutions: int = 0
    over_budget: list[str] = field(default_factory=list)
    never_ran: int = 0
    events_sent: int = 0
    events_lost: int = 0
    events_duplicated: int = 0
    still_queued: int = 0

    @property
    def total_kills(self) -> int:
        """Every SIGKILL the runner took."""
        return sum(self.kills.values())

    @property
    def ok(self) -> bool:
        """Whether every promise held."""
        return (
            self.completed == self.runs
            and self.journaled_once == self.runs * self.steps
            and not self.journal_problems
            and not self.over_budget
            and not self.never_ran
            and self.events_lost == self.events_duplicated == self.still_queued == 0
        )

    def lines(self) -> list[str]:
        """The figures, one per line."""
        by_point = ", ".join(f"{p} {n}" for p, n in sorted(self.kills.items()))
        total = self.runs * self.steps
        return [
            f"chaos: {self.runs} runs x {self.steps} steps; {self.total_kills} kill -9"
            f" ({by_point}); {self.starts} runner starts; {self.seconds:.1f}s",
            f"runs completed: {self.completed}/{self.runs}",
            f"step results journaled exactly once: {self.journaled_once}/{total}"
            f" (problems: {len(self.journal_problems)})",
            f"side effects: {self.executions} executions for {total} steps;"
            f" {self.reexecutions} re-executions; over the 1 + kills-inside-that-step bound:"
            f" {len(self.over_budget)}; never ran: {self.never_ran}",
            f"events: {self.events_sent} sent, lost {self.events_lost},"
            f" duplicated {self.events_duplicated}, still queued {self.still_queued}",
            "PASS" if self.ok else "FAIL",
        ]


class Campaign:
    """One state dir, one side-effect log, many runner lives."""

    def __init__(
        self, work: Path, *, runs: int, steps: int, kills: int, seed: int, kind: str = "def"
    ) -> None:
        """Lay out the files; nothing runs yet (`kind`: a `def` or an `async` workflow)."""
        self.work = work
        self.state = work / "state"
        self.effects = work / "effects.log"
        self.kill_log = work / "kills.log"
        self.runs, self.steps, self.target, self.kind = runs, steps, kills, kind
        self.rng = random.Random(seed)
        self.report = Report(runs=runs, steps=steps)
        self.sent: list[str] = []
        self.inside: Counter[tuple[str, int]] = Counter()  # kills inside each step
        self._seen: Counter[tuple[str, int]] = Counter()  # executions at the previous kill
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
        self.env.update(
            CHAOS_EFFECTS=str(self.effects),
            CHAOS_KILLS=str(self.kill_log),
            CHAOS_STEPS=str(steps),
            CHAOS_KIND=kind,
            PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        )

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
        base = self._effect_lines()
        kills_before = self._kill_lines()
        proc = self._start(env)
        for i in batch:
            self._send(i)
        deadline = time.monotonic() + CYCLE_TIMEOUT_S
        while proc.poll() is None:
            if self._effect_lines() - base >= budget:
                proc.send_signal(signal.SIGKILL)
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("a runner neither finished nor died within a minute")
            time.sleep(0.001)  # polling the side-effect log for the kill condition
        code = proc.wait(30)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if code == -signal.SIGKILL:
            landed = self._kill_lines() > kills_before
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
    def _effect_lines(self) -> int:
        try:
            return self.effects.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    def _kill_lines(self) -> int:
        try:
            return self.kill_log.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    def _executions(self) -> Counter[tuple[str, int]]:
        if not self.effects.exists():
            return Counter()
        found: Counter[tuple[str, int]] = Counter()
        for line in self.effects.read_text().splitlines():
            tag, index = line.split()
            found[(tag, int(index))] += 1
        return found

    def _journaled(self) -> set[tuple[str, int]]:
        from durable_cli.store import open_store

        done: set[tuple[str, int]] = set()
        if not self.state.exists():
            return done
        store = open_store(str(self.state), create=False)
        try:
            for run in store.list_runs():
                tag = run.event["data"]["tag"]
                for step in store.load_steps(run.id):
                    if step.status == "completed":
                        done.add((tag, int(step.id[1:].split(":")[0])))
        finally:
            store.close()
        return done

    def _note_kill(self) -> None:
        """A step was inside this kill if it ran since the last one and is not journaled."""
        ran = self._executions()
        journaled = self._journaled()
        for key, count in ran.items():
            if count > self._seen[key] and key not in journaled:
                self.inside[key] += 1
        self._seen = ran

    def _all_done(self) -> bool:
        return len(self.sent) == self.runs and len(self._journaled()) == self.runs * self.steps

    # -- the audit ----------------------------------------------------------------------------
    def _audit(self) -> None:
        from durable_cli.store import open_store

        rep = self.report
        rep.events_sent = len(self.sent)
        store = open_store(str(self.state), create=False)
        try:
            runs = list(store.list_runs())
            rep.still_queued = store.queued_count()
            per_event = Counter(run.event["id"] for run in runs)
            rep.events_lost = sum(1 for e in self.sent if per_event[e] == 0)
            rep.events_duplicated = sum(n - 1 for n in per_event.values() if n > 1)
            rep.events_duplicated += sum(1 for e in per_event if e not in set(self.sent))
            for run in runs:
                self._audit_run(store, run)
        finally:
            store.close()
        ran = self._executions()
        rep.executions = sum(ran.values())
        for index in range(self.runs):
            for step in range(self.steps):
                key = (f"e{index:04d}", step)
                count = ran[key]
                if count == 0:
                    rep.never_ran += 1
                rep.reexecutions += max(0, count - 1)
                if count > 1 + self.inside[key]:
                    rep.over_budget.append(f"{key}: ran {count}x, {self.inside[key]} kills inside")

    def _audit_run(self, store: Any, run: Any) -> None:
        rep = self.report
        tag = run.event["data"]["tag"]
        expected = [f"{tag}-{i}" for i in range(self.steps)]
        if run.status == "completed" and run.output == expected:
            rep.completed += 1
        else:
            rep.journal_problems.append(f"run {run.id} ({tag}): {run.status} {run.output!r}")
        steps = store.load_steps(run.id)
        ids = [s.id for s in steps]
        if ids != [f"s{i}" for i in range(self.steps)]:
            rep.journal_problems.append(f"run {run.id} ({tag}): journal holds {ids}")
        for step in steps:
            value = f"{tag}-{step.id[1:]}"
            if step.status == "completed" and step.output == value and ids.count(step.id) == 1:
                rep.journaled_once += 1
            else:
                rep.journal_problems.append(
                    f"run {run.id} step {step.id}: {step.status} {step.output!r}"
                )


def run_campaign(
    work: Path, *, runs: int, steps: int, kills: int, seed: int, kind: str = "def"
) -> Report:
    """Run one campaign in `work` (an empty folder) and return its report."""
    return Campaign(work, runs=runs, steps=steps, kills=kills, seed=seed, kind=kind).run()
