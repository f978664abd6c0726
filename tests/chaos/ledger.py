"""What a chaos campaign counts and how it audits: shared by the one-runner campaign on a state
dir (campaign.py) and the many-worker one on PostgreSQL (fleet.py).

The files in the campaign's folder: the side-effect log (one line `<tag> <step> <pid>` per real
execution of a step), the kill log (`<point> <n> <pid> <time>` per fault-point kill) and the
refusal log (`<tag> <step> <pid>` per step result a store refused because that runner's lease
was revoked).
The audit holds them against the journal: every run completed; each step's result journaled
exactly once; each step's side effect ran at most 1 + (kills inside that step) + (refused results
of it) times; no event lost or run twice.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["HERE", "Ledger", "Report", "Step"]

HERE = Path(__file__).resolve().parent
Step = tuple[str, int]  # (event tag, step index)


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
    workers: int = 1
    restarts: int = 0  # of the database server
    refused: int = 0  # step results refused to a runner whose lease was revoked

    @property
    def total_kills(self) -> int:
        """Every SIGKILL a runner took."""
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
        who = "runner" if self.workers == 1 else f"worker ({self.workers} at a time)"
        server = f"; {self.restarts} database restarts" if self.restarts else ""
        refused = f"; {self.refused} results refused to a revoked lease" if self.refused else ""
        return [
            f"chaos: {self.runs} runs x {self.steps} steps; {self.total_kills} kill -9"
            f" ({by_point}); {self.starts} {who} starts{server}; {self.seconds:.1f}s",
            f"runs completed: {self.completed}/{self.runs}",
            f"step results journaled exactly once: {self.journaled_once}/{total}"
            f" (problems: {len(self.journal_problems)})",
            f"side effects: {self.executions} executions for {total} steps;"
            f" {self.reexecutions} re-executions; over the 1 + kills-inside-that-step bound:"
            f" {len(self.over_budget)}; never ran: {self.never_ran}{refused}",
            f"events: {self.events_sent} sent, lost {self.events_lost},"
            f" duplicated {self.events_duplicated}, still queued {self.still_queued}",
            "PASS" if self.ok else "FAIL",
        ]


def _count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _read_lines(path: Path) -> list[list[str]]:
    try:
        return [line.split() for line in path.read_text().splitlines()]
    except FileNotFoundError:
        return []


class Ledger:
    """A campaign's logs, what they say, and the audit against the journal."""

    def __init__(
        self, work: Path, *, runs: int, steps: int, journal: Callable[[], ContextManager[Any]]
    ) -> None:
        """The logs live in `work`; `with journal() as store` reads the journal (store is None
        while there is none)."""
        self.effects = work / "effects.log"
        self.kill_log = work / "kills.log"
        self.refusal_log = work / "refused.log"
        self.runs, self.steps = runs, steps
        self._journal = journal
        self.inside: Counter[Step] = Counter()  # kills inside each step

    def env(self) -> dict[str, str]:
        """The environment a runner needs to write the logs (and load the chaos workflow)."""
        return {
            "CHAOS_EFFECTS": str(self.effects),
            "CHAOS_KILLS": str(self.kill_log),
            "CHAOS_REFUSED": str(self.refusal_log),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        }

    # -- the logs -----------------------------------------------------------------------------
    def effect_lines(self) -> int:
        """Side effects so far."""
        return _count_lines(self.effects)

    def kill_lines(self) -> int:
        """Fault-point kills so far."""
        return _count_lines(self.kill_log)

    def kills_of(self, pid: int) -> list[tuple[str, float]]:
        """The fault point at which process `pid` killed itself, and when (if it did)."""
        return [(f[0], float(f[3])) for f in _read_lines(self.kill_log) if f[2:3] == [str(pid)]]

    def executions(self, pid: int | None = None) -> Counter[Step]:
        """Real executions of each step (by process `pid` only, if given)."""
        found: Counter[Step] = Counter()
        for tag, index, *who in _read_lines(self.effects):
            if pid is None or who == [str(pid)]:
                found[(tag, int(index))] += 1
        return found

    def last_pid(self) -> int | None:
        """The process that ran the latest side effect."""
        try:
            with self.effects.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - 200))
                last = log.read().splitlines()[-1].split()
        except (FileNotFoundError, IndexError):
            return None
        return int(last[2]) if len(last) > 2 else None

    def refusals(self) -> Counter[Step]:
        """Step results refused to a runner whose lease was revoked, per step."""
        return Counter((tag, int(index)) for tag, index, *_ in _read_lines(self.refusal_log))

    def journal(self) -> dict[Step, int]:
        """The steps whose result is in the journal, each with the time it ended (epoch ms,
        as the runner that ran it stamped it before committing)."""
        done: dict[Step, int] = {}
        with self._journal() as store:
            for run in store.list_runs() if store is not None else ():
                tag = run.event["data"]["tag"]
                for step in store.load_steps(run.id):
                    if step.status == "completed":
                        done[(tag, int(step.id[1:].split(":")[0]))] = step.ended_at or 0
        return done

    def journaled(self) -> set[Step]:
        """The steps whose result is in the journal."""
        return set(self.journal())

    def note_kill(self, ran: Counter[Step], seen: Counter[Step]) -> None:
        """After a kill: a step was inside it if it ran (`ran`, against `seen` before) and is
        not journaled."""
        journaled = self.journaled()
        for key, count in ran.items():
            if count > seen[key] and key not in journaled:
                self.inside[key] += 1

    def note_death(self, pid: int, at: float) -> None:
        """After process `pid` died (or stopped) at `at` (epoch seconds): a step it ran was
        inside that death unless the journal holds a result that ended by then, which can only
        be its own (no other runner may take its runs before its lease lapses). Read by the
        time stamp, not by when we look: another runner may have run the step again since."""
        journal = self.journal()
        at_ms = int(at * 1000)
        for key in self.executions(pid):
            if journal.get(key, at_ms + 1) > at_ms:
                self.inside[key] += 1

    def all_done(self, sent: int) -> bool:
        """Whether every event is sent and every step journaled."""
        return sent == self.runs and len(self.journaled()) == self.runs * self.steps

    # -- the audit ----------------------------------------------------------------------------
    def audit(self, rep: Report, sent: list[str]) -> None:
        """Hold the journal and the logs against the promises; fill `rep` in."""
        rep.events_sent = len(sent)
        with self._journal() as store:
            assert store is not None, "no journal at all"
            runs = list(store.list_runs())
            rep.still_queued = store.queued_count()
            per_event = Counter(run.event["id"] for run in runs)
            rep.events_lost = sum(1 for e in sent if per_event[e] == 0)
            rep.events_duplicated = sum(n - 1 for n in per_event.values() if n > 1)
            rep.events_duplicated += sum(1 for e in per_event if e not in set(sent))
            for run in runs:
                self._audit_run(rep, store, run)
        ran = self.executions()
        refused = self.refusals()
        rep.refused = sum(refused.values())
        rep.executions = sum(ran.values())
        for index in range(self.runs):
            for step in range(self.steps):
                key = (f"e{index:04d}", step)
                count = ran[key]
                if count == 0:
                    rep.never_ran += 1
                rep.reexecutions += max(0, count - 1)
                if count > 1 + self.inside[key] + refused[key]:
                    rep.over_budget.append(
                        f"{key}: ran {count}x, {self.inside[key]} kills inside,"
                        f" {refused[key]} results refused"
                    )

    def _audit_run(self, rep: Report, store: Any, run: Any) -> None:
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
