"""`run_function` per call, in process: the seed pipeline with two injected failures (<= 5 ms).

    python benchmarks/testing.py [--calls 200] [--warmup 20]

Runs `examples/document_pipeline.py`'s `process_document` through
`durable_cli.testing.run_function` with the summary and the classification each failing once
(`fail=`), so every call journals five steps and two retries on virtual time and resumes the run
twice, as a test of that pipeline would. Prints the median and p90 wall time per call, and the
CPU time per call (every thread of the process), which moves less with the machine's load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import document_pipeline as pipeline

from durable_cli.testing import run_function

UPLOAD = {"filename": "team-offsite.md", "document_id": "doc-7", "user_id": "user-7"}
FAIL = {"summarize-content": 1, "classify-document": 1}


def one_call() -> float:
    """Wall milliseconds of one `run_function` call (checked: it ran as a test expects)."""
    start = time.perf_counter()
    result = run_function(pipeline.process_document, UPLOAD, fail=FAIL)
    took = (time.perf_counter() - start) * 1000
    assert result.status == "completed", result
    assert result.steps["classify-document"].attempts == 2, result
    return took


def main() -> None:
    """Measure and print the per-call figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    for _ in range(args.warmup):  # imports, the blank journal, first-call caches
        one_call()
    cpu = time.process_time()
    times = sorted(one_call() for _ in range(args.calls))
    cpu_ms = (time.process_time() - cpu) * 1000 / args.calls
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(
        f"run_function, seed pipeline with 2 injected failures, {args.calls} calls:"
        f" median {statistics.median(times):.1f} ms, p90 {p90:.1f} ms per call"
        f" (CPU {cpu_ms:.1f} ms per call)"
    )


if __name__ == "__main__":
    main()
