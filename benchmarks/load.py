"""Load: many processes sending at once while the runner works; send latency and losses.

    python benchmarks/load.py                  # 16 processes x 1,000 sends = 16,000 runs
    python benchmarks/load.py --processes 2 --sends 200

Every sender and the runner (`durable dev --headless`) start together on a brand-new state
dir (the cold-start race). Senders use `durable_cli.send`, and every --cli-every-th send the
`durable send` command; each send's wall time is kept. Prints p50/p99/max per path, errors
(none may say "database is locked"), and runs vs events (none lost, none duplicated).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))

from load_support import run_load


def main() -> int:
    """Run the load and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--sends", type=int, default=1000, help="sends per process")
    parser.add_argument("--cli-every", type=int, default=20, help="every Nth send via the CLI")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="durable-load-") as tmp:
        report = run_load(
            Path(tmp), processes=args.processes, sends=args.sends, cli_every=args.cli_every
        )
    for line in report.lines():
        print(line)
    for error in report.errors[:10]:
        print("  " + error)
    total = args.processes * args.sends
    ok = (
        not report.errors
        and len(report.sent) == report.runs == report.completed == total
        and report.lost == report.duplicated == 0
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
