"""5-step runs per second through `durable dev --headless --until-idle` (target >= 2,000/s).

    python benchmarks/throughput.py [--runs 2000] [--concurrency 16] [--kind def|async|both]

Queues --runs events first (as `durable send` does, in-process to save time), then times one
`durable dev --headless --until-idle --no-watch` process, stdout to /dev/null, until it exits
with every run completed. Prints the whole-process rate (start-up, imports and exit included)
and the rate between the first run starting and the last one ending, read from the journal,
for a `def` workflow (threads) and an `async def` one (tasks on the loop), or one of them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from durable_cli.engine import actions
from durable_cli.store import open_store

DURABLE = str(Path(sys.executable).with_name("durable"))
WORKFLOWS = {
    "def": textwrap.dedent(
        """
        import durable_cli as durable

        def work(n):
            return n + 1

        @durable.function(id="five-steps", trigger="bench/go")
        def five_steps(event, step):
            n = event.data["n"]
            for name in ("one", "two", "three", "four", "five"):
                n = step.run(name, work, n)
            return n
        """
    ),
    "async": textwrap.dedent(
        """
        import durable_cli as durable

        async def work(n):
            return n + 1

        @durable.function(id="five-steps", trigger="bench/go")
        async def five_steps(event, step):
            n = event.data["n"]
            for name in ("one", "two", "three", "four", "five"):
                n = await step.run(name, work, n)
            return n
        """
    ),
}


def main() -> None:
    """Queue the events, time the runner, check the journal, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--kind", choices=("def", "async", "both"), default="both")
    args = parser.parse_args()
    for kind in ("def", "async") if args.kind == "both" else (args.kind,):
        measure(kind, args.runs, args.concurrency)


def prepare(tmp: str, kind: str, count: int) -> str:
    """Write the `kind` workflow to `tmp`/five.py and queue `count` events; the state dir."""
    state = os.path.join(tmp, "state")
    Path(tmp, "five.py").write_text(WORKFLOWS[kind])
    store = open_store(state)
    with store.batch():
        for i in range(count):
            actions.queue_event(store, "bench/go", {"n": i})
    store.close()
    return state


def measure(kind: str, count: int, concurrency: int) -> None:
    """Time one runner over `count` queued runs of the `kind` workflow; print the rates."""
    with tempfile.TemporaryDirectory() as tmp:
        state = prepare(tmp, kind, count)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"), DURABLE_STATE_DIR=state)
        cmd = [DURABLE, "dev", "--headless", "--until-idle", "--idle-wait", "0", "--no-watch"]
        cmd += ["--concurrency", str(concurrency), "five.py"]
        # warms the bytecode cache with every module the timed run imports (asyncio among them)
        warm = dict(env, DURABLE_STATE_DIR=os.path.join(tmp, "warm"))
        subprocess.run(cmd, cwd=tmp, env=warm, check=True, stdout=subprocess.DEVNULL)
        started = time.perf_counter()
        subprocess.run(cmd, cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        store = open_store(state, create=False)
        runs = list(store.list_runs())
        store.close()
    assert len(runs) == count and all(r.status == "completed" for r in runs), "not all ran"
    span = (max(r.ended_at for r in runs) - min(r.started_at for r in runs)) / 1000
    print(f"{count} runs of 5 steps, `{kind}` workflow, concurrency {concurrency}")
    print(f"  whole process: {elapsed:.2f} s   {count / elapsed:,.0f} runs/s")
    print(f"  first start -> last end: {span:.2f} s   {count / span:,.0f} runs/s")


if __name__ == "__main__":
    main()
