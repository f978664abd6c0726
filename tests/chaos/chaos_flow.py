"""The chaos workflow, loaded by `durable dev` as a workflow file, and its fault hook.

`chaos` runs STEPS steps; each appends one line, `<tag> <step> <pid>`, to $CHAOS_EFFECTS (its
side effect) before it returns `<tag>-<step>`. The campaign counts those lines against the
journal.
With CHAOS_KIND=async, `chaos` is an `async def` whose steps are `async def` too: its journal
writes go through the loop's shared commit (`store.save_runs`) instead of `save_step`.

With DURABLE_TEST_CRASH_AT=<point>:<n> the runner SIGKILLs itself the n-th time it reaches
<point> (after noting `<point> <n> <pid> <time>` in $CHAOS_KILLS). The points patch store
methods from here (DiskcacheStore's, or with CHAOS_STORE=postgres PostgresStore's), so
production code carries no hook; a rename there makes the campaign fail loudly (AttributeError
at load, or no targeted kill ever landing), not pass.

    claim           inside the intake transaction: events dequeued, runs planned, nothing committed
    claimed         the intake committed, its runs not started
    step-returned   a step's callable returned; its result is not journaled yet
    step-committed  a step's result is journaled; the handler has not gone on
    in-step         inside a step's callable, after its side effect
    run-ending      the handler returned; the run is not marked completed yet
    run-ended       the run is marked completed

With $CHAOS_REFUSED set, a journal write the store refuses because this runner's lease was
revoked (a worker paused or cut off past its lease while others went on) notes each step result
it carried, `<tag> <step> <pid>`: that execution never counted and may rightly run again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any

import durable_cli as durable
from durable_cli.errors import LeaseLost
from durable_cli.store import DiskcacheStore

STEPS = int(os.environ.get("CHAOS_STEPS", "10"))
POINTS = (
    "claim",
    "claimed",
    "step-returned",
    "step-committed",
    "in-step",
    "run-ending",
    "run-ended",
)
_point, _, _nth = os.environ.get("DURABLE_TEST_CRASH_AT", "").partition(":")
_hits = 0
_lock = threading.Lock()


def _append(path: str, line: str) -> None:
    # one write() with O_APPEND: whole lines, even from several threads, and the page cache
    # keeps it when the process is killed right after
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode() + b"\n")
    finally:
        os.close(fd)


def reach(point: str) -> None:
    """Die here if this is the armed point's n-th visit."""
    global _hits
    if point != _point:
        return
    with _lock:
        _hits += 1
        if _hits != int(_nth):
            return
        _append(os.environ["CHAOS_KILLS"], f"{point} {_nth} {os.getpid()} {time.time():.6f}")
        os.kill(os.getpid(), signal.SIGKILL)


def effect(tag: str, index: int) -> str:
    """The side effect: one line per real execution."""
    _append(os.environ["CHAOS_EFFECTS"], f"{tag} {index} {os.getpid()}")
    time.sleep(0.002)  # gives a kill from outside a chance to land inside the step
    reach("in-step")
    return f"{tag}-{index}"


async def aeffect(tag: str, index: int) -> str:
    """`effect` for the async workflow: the same line, on the loop."""
    _append(os.environ["CHAOS_EFFECTS"], f"{tag} {index} {os.getpid()}")
    await asyncio.sleep(0.002)
    reach("in-step")
    return f"{tag}-{index}"


if os.environ.get("CHAOS_KIND") == "async":

    @durable.function(id="chaos", trigger="chaos/go", retries=0)
    async def chaos(event: durable.Event, step: durable.AsyncStep) -> list[str]:
        """STEPS steps, each a side effect."""
        tag = event.data["tag"]
        return [await step.run(f"s{i}", aeffect, tag, i) for i in range(STEPS)]

else:

    @durable.function(id="chaos", trigger="chaos/go", retries=0)
    def chaos(event: durable.Event, step: durable.Step) -> list[str]:  # type: ignore[misc]
        """STEPS steps, each a side effect."""
        tag = event.data["tag"]
        return [step.run(f"s{i}", effect, tag, i) for i in range(STEPS)]


def _store_class() -> type:
    if os.environ.get("CHAOS_STORE") == "postgres":
        from durable_cli.store._postgres import PostgresStore

        return PostgresStore
    return DiskcacheStore


def _refused(steps: Any) -> None:
    """Note the results of a write the store refused (this runner's lease was revoked): those
    executions never counted, so each may rightly run again on another runner."""
    lines = []
    for step in steps:
        if step.kind == "run" and step.status == "completed" and isinstance(step.output, str):
            tag, _, index = step.output.rpartition("-")
            lines.append(f"{tag} {index} {os.getpid()}")
    for line in lines:
        _append(os.environ["CHAOS_REFUSED"], line)


def _install() -> None:
    if _point and (_point not in POINTS or not _nth.isdigit()):
        raise ValueError(f"DURABLE_TEST_CRASH_AT={_point}:{_nth}: unknown point")
    store_class = _store_class()
    claim, save_step, save_run, save_runs = (
        store_class.claim_events,
        store_class.save_step,
        store_class.save_run,
        store_class.save_runs,
    )
    # save_step and save_run may write through save_runs: a visit counts (and a refusal is
    # noted) once, in the outermost of them
    inside = threading.local()

    def outermost(write: Any, steps: list[Any], runs: list[Any]) -> Any:
        if getattr(inside, "busy", False):
            return write()
        step_done = sum(1 for s in steps if s.kind == "run" and s.status == "completed")
        run_done = sum(1 for r in runs if r.status == "completed")
        for _ in range(step_done):
            reach("step-returned")
        for _ in range(run_done):
            reach("run-ending")
        inside.busy = True
        try:
            saved = write()
        except LeaseLost:
            if "CHAOS_REFUSED" in os.environ:
                _refused(steps)
            raise
        finally:
            inside.busy = False
        for _ in range(step_done):
            reach("step-committed")
        for _ in range(run_done):
            reach("run-ended")
        return saved

    def claim_events(self: Any, plan: Any, limit: int = 256, **kwargs: Any) -> Any:
        def planned(event: dict[str, Any]) -> Any:
            runs = plan(event)
            reach("claim")
            return runs

        created = claim(self, planned, limit, **kwargs)
        if created:
            reach("claimed")
        return created

    def step_saved(self: Any, step: Any, **kwargs: Any) -> None:
        run = kwargs.get("run")
        outermost(lambda: save_step(self, step, **kwargs), [step], [run] if run else [])

    def run_saved(self: Any, run: Any, **kwargs: Any) -> bool:
        return outermost(lambda: save_run(self, run, **kwargs), [], [run])

    def runs_saved(self: Any, runs: Any, steps: Any = ()) -> Any:
        # a shared commit carries several runs' steps: each counts as a visit, as in save_step
        steps = list(steps)
        return outermost(lambda: save_runs(self, runs, steps), steps, list(runs))

    store_class.claim_events = claim_events
    store_class.save_step = step_saved
    store_class.save_run = run_saved
    store_class.save_runs = runs_saved


if _point or "CHAOS_REFUSED" in os.environ:
    _install()
