"""CPU instructions per 5-step run through the engine, counted by valgrind: a figure that holds
still when the machine does not.

    python benchmarks/instructions.py [--runs 400] [--kind def|async|both] [--base DIR]

Wall-clock rates here move by ±30 % from one minute to the next, which hides a change worth
10 %. This runs the runner in process (headless log to /dev/null, as `durable dev --headless`)
under `valgrind --tool=callgrind` twice, over --runs and then twice as many queued events, and
prints the difference per run: start-up and imports cancel out. The same code gives the same
figure to within about 0.5 %. `--base DIR` measures the durable_cli found in DIR instead (a
`git worktree` of an older commit) to compare two versions. Instructions are not time: system
calls, cache misses and waiting for the GIL don't show, so confirm a gain with `throughput.py`.
The WAL checkpoint thread is kept out: it copies every 0.1 s of the clock, which valgrind slows
fifty-fold, so its share would follow the timing; it runs beside the loop, on the other core.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

_SERVE = """
import asyncio, os, sys
base = os.environ.get("DURABLE_BASE")
if base:  # the editable install's finder would win over sys.path: drop it
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, base)
from durable_cli.cli._headless import HeadlessLog
from durable_cli.engine import Engine, load_paths
from durable_cli.store import open_store
store = open_store(sys.argv[1])
if hasattr(store, "checkpoints"):  # its passes follow the clock, which valgrind slows 50x
    store.checkpoints.close()
elif hasattr(store, "_checkpoints"):  # a --base from before the store's parts were public
    store._group._after_commit = lambda: None
engine = Engine(store, load_paths([sys.argv[2]]), concurrency=16)
engine.add_listener(HeadlessLog(open(os.devnull, "w")))
asyncio.run(engine.serve(until_idle=True, idle_wait=0))
engine.close()
store.close()
"""


def main() -> None:
    """Count, for each kind of workflow, and print instructions per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--kind", choices=("def", "async", "both"), default="both")
    parser.add_argument("--base", help="a checkout whose durable_cli to measure instead")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt install valgrind)")
    for kind in ("def", "async") if args.kind == "both" else (args.kind,):
        low = count(kind, args.runs, args.base)
        high = count(kind, 2 * args.runs, args.base)
        print(f"`{kind}` workflow: {(high - low) / args.runs:,.0f} instructions per 5-step run")


def count(kind: str, runs: int, base: str | None) -> int:
    """Instructions valgrind counts for one in-process runner over `runs` queued events."""
    from throughput import prepare

    with tempfile.TemporaryDirectory() as tmp:
        state = prepare(tmp, kind, runs)
        env = dict(os.environ, DURABLE_BASE=os.path.abspath(base) if base else "")
        serve = [sys.executable, "-c", _SERVE, state, os.path.join(tmp, "five.py")]
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", *serve],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        sys.exit(f"valgrind printed no count:\n{out.stderr[-2000:]}")
    return int(found.group(1))


if __name__ == "__main__":
    main()
