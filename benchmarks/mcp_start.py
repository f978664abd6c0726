"""Start-up of `durable mcp` (to its first answer) beside `durable runs` and the MCP SDK's import.

    python benchmarks/mcp_start.py [--runs 15]

The target: starting `durable mcp` costs no more than `durable runs` plus importing the SDK
(`mcp` and its server modules) over a bare interpreter. `durable mcp` is timed from its launch
to its answer to `initialize`, then to the tool list, as an agent's client waits for them; the
others are whole processes. Children get a bytecode cache, as an installed user has one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DURABLE = str(Path(sys.executable).with_name("durable"))
SDK = "import mcp.server.mcpserver, mcp.server.stdio"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}


def whole(cmd: list[str], env: dict[str, str]) -> float:
    """Wall milliseconds of one fresh process running `cmd`."""
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def mcp_start(env: dict[str, str]) -> tuple[float, float]:
    """Milliseconds from launching `durable mcp` to its `initialize` answer, and to tools/list."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [DURABLE, "mcp"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(INITIALIZE) + "\n")
    proc.stdin.flush()
    json.loads(proc.stdout.readline())
    ready = time.perf_counter()
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    proc.stdin.write("\n" + json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
    proc.stdin.write("\n")
    proc.stdin.flush()
    json.loads(proc.stdout.readline())
    tools = time.perf_counter()
    proc.stdin.close()
    proc.wait(30)
    return (ready - started) * 1000, (tools - started) * 1000


def report(label: str, ms: list[float]) -> float:
    """One line: median, p90, best; returns the median."""
    ms = sorted(ms)
    p90 = ms[max(0, int(len(ms) * 0.9) - 1)]
    median = statistics.median(ms)
    print(f"{label:<42} median {median:7.1f} ms   p90 {p90:7.1f}   best {ms[0]:7.1f}")
    return median


def main() -> None:
    """Time `durable mcp`'s start against `durable runs` and the SDK's import."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        env["DURABLE_STATE_DIR"] = os.path.join(tmp, "state")
        subprocess.run([DURABLE, "send", "bench/event"], env=env, check=True, capture_output=True)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import <the MCP SDK>'": [sys.executable, "-c", SDK],
            "durable runs --json": [DURABLE, "runs", "--json"],
        }
        times: dict[str, list[float]] = {label: [] for label in commands}
        started, listed = [], []
        # interleaved, one of each per round: a busy spell slows them all alike
        for round_ in range(args.runs + 1):  # the first round is a warm-up
            took = {label: whole(cmd, env) for label, cmd in commands.items()}
            ready, tools = mcp_start(env)
            if round_:
                for label, ms in took.items():
                    times[label].append(ms)
                started.append(ready)
                listed.append(tools)
        medians = {label: report(label, ms) for label, ms in times.items()}
        report("durable mcp: launch -> initialize answered", started)
        report("durable mcp: launch -> tools/list answered", listed)
        # the best of each is the figure a busy machine disturbs least; the median is shown too
        for what, pick, mcp_ms in (
            ("median", medians, statistics.median(started)),
            ("best", {label: min(ms) for label, ms in times.items()}, min(started)),
        ):
            floor, sdk = pick["python -c pass"], pick["python -c 'import <the MCP SDK>'"]
            budget = pick["durable runs --json"] + sdk - floor
            verdict = "within" if mcp_ms <= budget else "OVER"
            print(
                f"{what}: budget (durable runs + SDK import - bare interpreter) {budget:.1f} ms; "
                f"durable mcp {mcp_ms:.1f} ms: {verdict}"
            )


if __name__ == "__main__":
    main()
