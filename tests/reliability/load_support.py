"""Many senders at once against one state dir (with a runner working): the load harness.

`run_load` starts the real `durable dev` on a one-step workflow, then `processes` sender
processes that each send `sends` events, through `durable_cli.send` and, every `cli_every`-th
time, through the `durable send` command. Each sender waits for a start file so they all hit
the store together (a brand-new state dir, when `cold` is set: nobody created it before).
Every failure is kept with its message; latencies are kept per path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DURABLE = Path(sys.executable).with_name("durable")
WORKFLOW = textwrap.dedent(
    """
    import durable_cli as durable

    @durable.function(id="load", trigger="load/go")
    def load(event, step):
        return step.run("echo", lambda: event.data["n"])
    """
)
SENDER = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    import durable_cli

    worker, sends, cli_every, state, start, durable = sys.argv[1:7]
    worker, sends, cli_every = int(worker), int(sends), int(cli_every)
    while not os.path.exists(start):
        time.sleep(0.001)  # all senders begin together
    out = {"api": [], "cli": [], "ids": [], "errors": []}
    for i in range(sends):
        eid = f"w{worker:02d}-{i:05d}"
        began = time.perf_counter()
        if cli_every and i % cli_every == cli_every - 1:
            done = subprocess.run(
                [durable, "send", "load/go", "--data", json.dumps({"n": i}), "--id", eid,
                 "--state-dir", state],
                capture_output=True, text=True,
            )
            path = "cli"
            if done.returncode != 0 or done.stdout.strip() != eid:
                out["errors"].append(f"exit {done.returncode}: {done.stderr.strip()}")
        else:
            path = "api"
            try:
                durable_cli.send("load/go", {"n": i}, state_dir=state, id=eid)
            except Exception as exc:
                out["errors"].append(f"{type(exc).__name__}: {exc}")
        out[path].append(time.perf_counter() - began)
        out["ids"].append(eid)
    print(json.dumps(out))
    """
)


@dataclass
class LoadReport:
    """What the senders and the runner did."""

    processes: int
    sends: int
    api_s: list[float] = field(default_factory=list)
    cli_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    runs: int = 0
    completed: int = 0
    duplicated: int = 0
    lost: int = 0
    send_seconds: float = 0.0
    drain_seconds: float = 0.0

    @property
    def locked(self) -> int:
        """Failures that mention a locked database (must be none)."""
        return sum("locked" in e.lower() for e in self.errors)

    def lines(self) -> list[str]:
        """The figures, one per line."""
        total = self.processes * self.sends
        lines = [
            f"load: {self.processes} processes x {self.sends} sends = {total} events,"
            f" runner working meanwhile",
            f"sent in {self.send_seconds:.1f}s ({len(self.sent) / max(self.send_seconds, 1e-9):.0f}"
            f" events/s); all runs done {self.drain_seconds:.1f}s later",
        ]
        for name, values in (("durable_cli.send", self.api_s), ("durable send (CLI)", self.cli_s)):
            if values:
                lines.append(f"{name:<20} n={len(values):>5}  {_percentiles(values)}")
        lines += [
            f'errors: {len(self.errors)} ("database is locked": {self.locked})',
            f"runs: {self.runs} for {len(self.sent)} events; completed {self.completed};"
            f" lost {self.lost}; duplicated {self.duplicated}",
        ]
        return lines


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return f"p50 {at(0.5):7.1f} ms  p99 {at(0.99):7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"


def run_load(
    work: Path, *, processes: int, sends: int, cli_every: int = 20, timeout: float = 1800
) -> LoadReport:
    """Send `processes` x `sends` events into a brand-new state dir while a runner works."""
    state, start = work / "state", work / "go"
    (work / "load_flow.py").write_text(WORKFLOW)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
    # a bytecode cache, as an installed user has one, even when this shell turns it off: else
    # every CLI send compiles durable's modules afresh and the figures say so
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    report = LoadReport(processes=processes, sends=sends)
    args = [str(sends), str(cli_every), str(state), str(start), str(DURABLE)]
    senders = [
        subprocess.Popen(
            [sys.executable, "-c", SENDER, str(w), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(processes)
    ]
    cmd = [str(DURABLE), "dev", "--headless", "--no-watch", "--state-dir", str(state)]
    runner = subprocess.Popen(
        [*cmd, str(work / "load_flow.py")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        began = time.monotonic()
        start.touch()  # the runner and every sender open the new state dir at once
        for proc in senders:
            out, err = proc.communicate(timeout=timeout)
            if proc.returncode != 0:
                report.errors.append(f"sender exited {proc.returncode}: {err.strip()[-500:]}")
                continue
            got = json.loads(out)
            report.api_s += got["api"]
            report.cli_s += got["cli"]
            report.sent += got["ids"]
            report.errors += got["errors"]
        report.send_seconds = time.monotonic() - began
        _wait_for_runs(state, len(report.sent), runner, timeout)
        report.drain_seconds = time.monotonic() - began - report.send_seconds
    finally:
        for proc in senders:
            if proc.poll() is None:
                proc.kill()
        if runner.poll() is None:
            runner.send_signal(signal.SIGINT)
            try:
                runner.wait(30)
            except subprocess.TimeoutExpired:
                runner.kill()
    if runner.returncode not in (0, 130):
        report.errors.append(f"runner exited {runner.returncode}: {runner.stderr.read()[-500:]}")
    _audit(state, report)
    return report


def _wait_for_runs(
    state: Path, expected: int, runner: subprocess.Popen[str], timeout: float
) -> None:
    from durable_cli.store import open_store

    deadline = time.monotonic() + timeout
    store = open_store(str(state), create=False)
    try:
        while store.queued_count() or _finished(store) < expected:
            if runner.poll() is not None:
                raise AssertionError(f"the runner died: {runner.stderr.read()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"runs not all finished after {timeout:g}s")
            time.sleep(0.2)  # polling the journal for the condition
    finally:
        store.close()


def _finished(store: Any) -> int:
    # counted in SQL by status tag: decoding 16,000 runs every poll would slow the runner
    return sum(store.rows.count("run/", tag=status) for status in ("completed", "failed"))


def _audit(state: Path, report: LoadReport) -> None:
    from collections import Counter

    from durable_cli.store import open_store

    store = open_store(str(state), create=False)
    try:
        runs = list(store.list_runs())
    finally:
        store.close()
    per_event = Counter(run.event["id"] for run in runs)
    report.runs = len(runs)
    report.completed = sum(run.status == "completed" for run in runs)
    report.lost = sum(1 for eid in report.sent if per_event[eid] == 0)
    report.duplicated = sum(n - 1 for n in per_event.values() if n > 1)
