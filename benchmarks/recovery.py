"""Crash → the in-flight step running again, after a restart (target ≤ 0.3 s; DBOS ~1.0 s here).

    python benchmarks/recovery.py [--trials 10]

A `durable dev --headless` runner works on a run whose step 3 SIGKILLs its own process (a crash
in the middle of the step). A new runner is started on the same state dir at once; the figure is
the time from that start to step 3 beginning again (the step writes a timestamp when it starts).
Printed twice: for the whole `durable dev` process (interpreter and CLI start-up included) and
from the engine's start inside an already-running process. The processes get a bytecode cache
(in a temp dir, warmed by the runner that crashes) as an installed user has one, even when this
shell sets PYTHONDONTWRITEBYTECODE.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

from durable_cli.engine import Engine, load_paths
from durable_cli.store import open_store

DURABLE = str(Path(sys.executable).with_name("durable"))
PYCACHE = tempfile.TemporaryDirectory(prefix="durable-recovery-pycache-")
WORKFLOW = textwrap.dedent(
    """
    import os, signal, time
    import durable_cli as durable

    MARK = os.environ["RECOVERY_MARK"]

    def three():
        with open(MARK, "a") as f:
            f.write(f"{time.time()}\\n")
        if not os.path.exists(MARK + ".crashed"):
            open(MARK + ".crashed", "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return 3

    @durable.function(id="crashy", trigger="bench/crash")
    def crashy(event, step):
        step.run("one", lambda: 1)
        step.run("two", lambda: 2)
        return step.run("three", three)
    """
)


def _crash_once(tmp: Path, env: dict[str, str]) -> str:
    state = str(tmp / "state")
    subprocess.run(
        [DURABLE, "send", "bench/crash", "--state-dir", state],
        check=True,
        env=env,
        capture_output=True,
    )
    first = subprocess.run(
        [DURABLE, "dev", str(tmp / "wf.py"), "--headless", "--no-watch", "--state-dir", state],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert first.returncode == -9, first.stderr.decode()
    return state


def _starts(mark: Path) -> list[float]:
    return [float(x) for x in mark.read_text().split()]


@contextlib.contextmanager
def _crashed() -> Iterator[tuple[Path, dict[str, str], str]]:
    """A temp project whose runner just died inside step 3: (folder, env, state dir)."""
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        (tmp / "wf.py").write_text(WORKFLOW)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(RECOVERY_MARK=str(tmp / "mark"), PYTHONPYCACHEPREFIX=PYCACHE.name)
        yield tmp, env, _crash_once(tmp, env)


def whole_process(trials: int) -> list[float]:
    """Seconds from launching `durable dev` again to step 3 running again."""
    figures = []
    for _ in range(trials):
        with _crashed() as (tmp, env, state):
            started = time.time()
            subprocess.run(
                [
                    DURABLE,
                    "dev",
                    str(tmp / "wf.py"),
                    "--headless",
                    "--no-watch",
                    "--until-idle",
                    "--idle-wait",
                    "0",
                    "--state-dir",
                    state,
                ],
                env=env,
                capture_output=True,
                timeout=60,
                check=True,
            )
            figures.append(_starts(tmp / "mark")[1] - started)
    return figures


def in_process(trials: int) -> list[float]:
    """Seconds from opening the store and starting the engine to step 3 running again."""
    figures = []
    for _ in range(trials):
        with _crashed() as (tmp, env, state):
            os.environ["RECOVERY_MARK"] = env["RECOVERY_MARK"]
            registry = load_paths([str(tmp / "wf.py")])  # the import is the user's, not ours
            started = time.time()
            store = open_store(state)
            engine = Engine(store, registry)
            asyncio.run(engine.serve(until_idle=True, idle_wait=0))
            engine.close()
            store.close()
            figures.append(_starts(tmp / "mark")[1] - started)
    return figures


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    for name, measure in (
        ("whole `durable dev` process", whole_process),
        ("engine start, in process", in_process),
    ):
        figures = sorted(measure(args.trials))
        print(
            f"crash -> step running again, {name}: p50 {statistics.median(figures) * 1000:.0f}"
            f" ms, max {figures[-1] * 1000:.0f} ms ({len(figures)} trials)"
        )


if __name__ == "__main__":
    main()
