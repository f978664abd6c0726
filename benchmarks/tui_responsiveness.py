"""How fast the TUI answers a key press while 200 runs execute, over a journal of 10,000 runs.

    python benchmarks/tui_responsiveness.py [--runs 200] [--history 10000]

The app runs headless (Textual's Pilot) with the engine serving on the app's own loop, as in
`durable dev`. Each run has five steps that each wait 50 ms (I/O-like, in the engine's worker
threads). From the moment the events are sent until every run has finished, the benchmark
presses up/down in the runs list every 50 ms and times each press from the key event being
posted to the cursor having moved: the key handled on the loop the engine shares. It also
prints how many of the 10,000 finished runs the list holds in memory.
Target: every press answered within 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from textual import events

from durable_cli.engine import Engine, load_paths
from durable_cli.store import RunRecord, Store, open_store
from durable_cli.tui.app import DurableApp

WORKFLOW = """
import time
import durable_cli as durable


def io(name):
    time.sleep(0.05)
    return name


@durable.function(id="bench", trigger="bench/go")
def bench(event, step):
    for name in ("a", "b", "c", "d", "e"):
        step.run(name, io, name)
    return "ok"
"""


def seed_history(store: Store, count: int) -> None:
    """`count` finished runs, written straight into the journal."""
    for start in range(0, count, 1000):
        store.create_runs(
            RunRecord(
                id=f"00BENCH{i:019d}",
                function="bench",
                status="completed",
                event={"id": f"h{i}", "name": "bench/go", "data": {}, "ts": 0},
                created_at=1,
                started_at=1,
                ended_at=2,
            )
            for i in range(start, min(count, start + 1000))
        )


async def press_until_idle(app: DurableApp) -> tuple[list[float], float]:
    """Press up/down every 50 ms until no run is active; (latencies in ms, seconds taken)."""
    main = app.main
    assert main is not None
    main.runs.focus()
    latencies: list[float] = []
    key = "down"
    started = time.perf_counter()
    while not latencies or main.status.active:
        before = main.runs.cursor
        key = "down" if before == 0 else "up" if before >= 5 else key
        t0 = time.perf_counter()
        app.post_message(events.Key(key, None))
        while main.runs.cursor == before and time.perf_counter() - t0 < 5:
            await asyncio.sleep(0.0005)
        latencies.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.05)
    return latencies, time.perf_counter() - started


async def measure(runs: int, history: int) -> None:
    """Run the scenario and print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        flow = Path(tmp) / "bench_flow.py"
        flow.write_text(WORKFLOW)
        store = open_store(os.path.join(tmp, "state"))
        store.lock_runner()
        seed_history(store, history)
        engine = Engine(store, load_paths([str(flow)]))
        app = DurableApp(engine)
        async with app.run_test(size=(100, 30)):
            assert app.main is not None
            while app.main.reading:  # the TUI reads the journal in workers, the first page too
                await asyncio.sleep(0.01)
            held = len(app.main.runs.runs)
            for i in range(runs):
                engine.send("bench/go", {"i": i})
            latencies, took = await press_until_idle(app)
            done = sum(1 for _ in store.list_runs(status="completed")) - history
            await app.action_quit()
        engine.close()
        store.close()
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"history: {history} finished runs; the runs list held {held} of them")
    print(f"load: {done} of {runs} runs x 5 steps completed in {took:.1f}s of key presses")
    print(
        f"key press -> handled, {len(latencies)} presses: p50 "
        f"{statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms"
        " (target: under 100 ms)"
    )


def main() -> None:
    """Parse the arguments and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--history", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(measure(args.runs, args.history))


if __name__ == "__main__":
    main()
