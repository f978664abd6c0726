"""Whole-process time of `durable send` (target <= 110 ms), beside Python's own start-up.

    python benchmarks/send.py [--runs 30]

Each figure is the wall time of a fresh process, as a shell script sending events pays it. The
children get a bytecode cache (in a temp dir) as an installed user has one, even when this
shell sets PYTHONDONTWRITEBYTECODE.

What a send imports weighs as much as what it writes: importing `typing` alone took 20 ms on the
project's CI machine, and setuptools' editable-install import hook ~20 ms more (pathlib and
friends). So the modules on its path import typing only under TYPE_CHECKING, and the project
builds with hatchling, whose editable install is a plain path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DURABLE = str(Path(sys.executable).with_name("durable"))


def timings(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall milliseconds of `runs` fresh processes running `cmd` (after one warm-up)."""
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        out.append((time.perf_counter() - started) * 1000)
    return out


def report(label: str, ms: list[float]) -> None:
    """One line: median, p90, best."""
    ms = sorted(ms)
    p90 = ms[int(len(ms) * 0.9) - 1]
    print(
        f"{label:<34} median {statistics.median(ms):6.1f} ms   p90 {p90:6.1f}   best {ms[0]:6.1f}"
    )


def main() -> None:
    """Time `durable send` against the interpreter's floor and typer's import."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        env["DURABLE_STATE_DIR"] = os.path.join(tmp, "state")
        send = [DURABLE, "send", "bench/event", "--data", '{"n": 1}']
        report("python -c pass", timings([sys.executable, "-c", "pass"], args.runs, env))
        report("python -c 'import typer'", timings([sys.executable, "-c", "import typer"], 10, env))
        report("durable send (fast path)", timings(send, args.runs, env))
        report("durable send --help (typer)", timings([*send[:2], "--help"], 10, env))


if __name__ == "__main__":
    main()
