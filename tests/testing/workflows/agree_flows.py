"""Workflows run both by `run_function` and by `durable dev` in test_helper_vs_dev.py."""

import contextlib

import durable_cli as durable


def double(x: int) -> int:
    return x * 2


def add(a: int, b: int) -> int:
    return a + b


def always_fails() -> None:
    raise RuntimeError("the service is down")


# tiny real delays: `durable dev` runs on the wall clock
@durable.function(id="agree-sync", trigger="agree/sync", retries=2, backoff=lambda n: 0.01)
def agree_sync(event: durable.Event, step: durable.Step) -> int:
    a = step.run("fetch", double, event.data["x"])
    items = [step.run("item", double, i) for i in range(3)]
    with contextlib.suppress(durable.StepError):  # the handler catches the step's failure
        step.run("flaky", always_fails)
    step.sleep("pause", 0.02)
    return step.run("total", add, a, sum(items))


@durable.function(id="agree-async", trigger="agree/async", retries=1, backoff=lambda n: 0.01)
async def agree_async(event: durable.Event, step: durable.AsyncStep) -> int:
    a = await step.run("fetch", double, event.data["x"])
    await step.run("give-up", always_fails)
    return a
