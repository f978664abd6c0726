"""Event intake: `durable send` returning → the run starting, with an idle runner (p50 <= 25 ms).

    python benchmarks/latency.py [--events 30] [--idle 5]

Starts `durable dev --headless` on a one-step workflow, sends events one at a time with the
runner idle in between, and compares each run's journaled `started_at` with the moment the
`durable send` process had exited (both epoch ms on this machine's clock). Then it leaves the
runner idle for --idle seconds and reports the CPU it used meanwhile (target < 2%).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from durable_cli.store import open_store

DURABLE = str(Path(sys.executable).with_name("durable"))
WORKFLOW = textwrap.dedent(
    """
    import durable_cli as durable

    @durable.function(id="ping", trigger="bench/ping")
    def ping(event, step):
        return step.run("pong", lambda: "pong")
    """
)


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the runner")
        time.sleep(0.005)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Measure intake latency and idle CPU; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU sampling")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state")
        Path(tmp, "ping.py").write_text(WORKFLOW)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"), DURABLE_STATE_DIR=state)
        runner = subprocess.Popen(
            [DURABLE, "dev", "--headless", "--no-watch", "ping.py"],
            cwd=tmp,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        started_lines: list[str] = []
        try:
            sent: list[tuple[str, int]] = []
            for i in range(args.events + 1):
                done = subprocess.run(
                    [DURABLE, "send", "bench/ping", "--data", f'{{"i": {i}}}'],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                returned_ms = time.time() * 1000
                sent.append((done.stdout.strip(), returned_ms))
                # wait for this run to finish, then leave the runner idle a little
                while len(started_lines) <= i:
                    line = runner.stdout.readline()
                    if " completed" in line and "  -  " in line:
                        started_lines.append(line)
                time.sleep(random.uniform(0.02, 0.1))
            busy_cpu = cpu_seconds(runner.pid)
            time.sleep(args.idle)
            idle_cpu = cpu_seconds(runner.pid) - busy_cpu
        finally:
            runner.terminate()
            runner.wait(10)
        store = open_store(state, create=False)
        by_event = {run.event["id"]: run for run in store.list_runs()}
        store.close()
    runs = [(by_event[eid], ms) for eid, ms in sent[1:]]  # sent[0] was the warm-up
    report("send returned -> run started", [run.started_at - ms for run, ms in runs])
    report("event stamped -> run started", [run.started_at - run.event["ts"] for run, _ in runs])
    print("(negative: the run started before the `durable send` process had finished exiting)")
    print(f"idle runner CPU over {args.idle:g}s: {idle_cpu / args.idle * 100:.2f}%")


def report(label: str, ms: list[float]) -> None:
    """p50, p90 and max of a list of milliseconds."""
    ms = sorted(ms)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    print(f"{label:<30} p50 {statistics.median(ms):5.0f} ms   p90 {p90:5.0f}   max {ms[-1]:5.0f}")


if __name__ == "__main__":
    main()
