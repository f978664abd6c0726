"""Chaos: kill -9 the runner at random points while runs go on; print what survived.

    python benchmarks/chaos.py           # the CI slice: 8 runs x 10 steps, 20 kills
    python benchmarks/chaos.py --full    # 50 runs x 10 steps, 200 kills
    python benchmarks/chaos.py --full --kind async    # the same with an `async def` workflow

Each kill lands at a random point: inside the intake transaction (events dequeued, runs not
committed), right after it, between a step returning and its result being journaled, right
after the journal commit, inside a step, around a run's completion, or from outside after a
random few side effects. The runner is started again each time (the real `durable dev`),
events are sent meanwhile (half with `durable send`, half with `durable_cli.send`). Exit 0 and
PASS when every promise held.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "chaos"))

from campaign import run_campaign


def main() -> int:
    """Run a campaign and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="50 runs x 10 steps, 200 kills")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--kills", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kind", choices=("def", "async"), default="def", help="the workflow")
    args = parser.parse_args()
    runs = args.runs or (50 if args.full else 8)
    kills = args.kills or (200 if args.full else 20)
    with tempfile.TemporaryDirectory(prefix="durable-chaos-") as tmp:
        report = run_campaign(
            Path(tmp), runs=runs, steps=args.steps, kills=kills, seed=args.seed, kind=args.kind
        )
    for line in report.lines():
        print(line)
    for problem in (report.journal_problems + report.over_budget)[:20]:
        print("  " + problem)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
