"""Time from saving a workflow file to its new code being live in the engine (p50, p90).

    python benchmarks/reload.py [--saves 20]

An engine and its Reloader run as in `durable dev`; each save rewrites the file (write, then
rename, as editors do) with a new return value, and the clock stops when the engine's registry
holds the new function object.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from durable_cli.engine import Engine, Reloader, load_paths
from durable_cli.store import open_store

SOURCE = """
import durable_cli as durable

@durable.function(id="job", trigger="go")
def job(event, step):
    return step.run("answer", lambda: {n})
"""


async def measure(saves: int) -> list[float]:
    """Seconds from each save to the new code being live."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_flow.py"
        path.write_text(SOURCE.format(n=0))
        store = open_store(os.path.join(tmp, "state"))
        engine = Engine(store, load_paths([str(path)]))
        reloader = Reloader(engine, [str(path)])
        stop = asyncio.Event()
        tasks = [
            asyncio.ensure_future(engine.serve(stop=stop)),
            asyncio.ensure_future(reloader.run(stop)),
        ]
        figures = []
        for n in range(1, saves + 2):
            before = engine.registry.get("job")
            tmp_file = path.with_suffix(".tmp")
            tmp_file.write_text(SOURCE.format(n=n))
            started = time.perf_counter()
            os.replace(tmp_file, path)
            deadline = started + 10
            while engine.registry.get("job") is before and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            if n > 1:  # the first save also waits for the watcher to arm: not a reload figure
                figures.append(time.perf_counter() - started)
            await asyncio.sleep(0.1)  # let the debounce window close before the next save
        stop.set()
        await asyncio.gather(*tasks)
        engine.close()
        store.close()
    return figures


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()
    figures = sorted(asyncio.run(measure(args.saves)))
    p50 = statistics.median(figures)
    p90 = figures[int(len(figures) * 0.9) - 1]
    print(
        f"save -> new code live, {len(figures)} saves: p50 {p50 * 1000:.0f} ms, "
        f"p90 {p90 * 1000:.0f} ms, max {figures[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
