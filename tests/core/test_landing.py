"""A `def` handler's verdict lands on the loop; one that lands while no loop serves is taken by
the next `serve()` (the testing helper's timeout ends a serve with a step still running)."""

from __future__ import annotations

import asyncio
import threading

from helpers import wait_until

import durable_cli as durable
from durable_cli.engine import Engine, Registry


def test_a_verdict_landing_between_serves_is_taken_by_the_next(store):
    inside, release = threading.Event(), threading.Event()

    def slow():
        inside.set()
        release.wait(10)
        return "done"

    @durable.function(id="slow", trigger="go")
    def job(event, step):
        return step.run("slow", slow)

    engine = Engine(store, Registry([job]))
    engine.send("go", {})

    async def serve_until_inside() -> None:
        task = asyncio.ensure_future(engine.serve())
        await asyncio.get_running_loop().run_in_executor(None, inside.wait, 10)
        task.cancel()

    asyncio.run(serve_until_inside())  # the loop is gone; the step is still running
    release.set()
    (run,) = store.list_runs()
    wait_until(lambda: store.get_run(run.id).status == "completed", timeout=10)
    wait_until(lambda: engine.flight.landed == 1, timeout=10)  # landed, with no loop to take it
    # bounded: a verdict nobody takes keeps the run in flight, and the serve would never idle
    asyncio.run(asyncio.wait_for(engine.serve(until_idle=True, idle_wait=0, recover=False), 10))
    assert not engine.schedule.active and not engine.flight.landed
    engine.close()
