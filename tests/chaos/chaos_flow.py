"""The chaos workflow, loaded by `durable dev` as a workflow file, and its fault hook.

`chaos` runs STEPS steps; each appends one line, `<tag> <step>`, to $CHAOS_EFFECTS (its side
effect) before it returns `<tag>-<step>`. The campaign counts those lines against the journal.

With DURABLE_TEST_CRASH_AT=<point>:<n> the runner SIGKILLs itself the n-th time it reaches
<point> (after noting the point in $CHAOS_KILLS). The points patch store methods from here,
so production code carries no hook; a rename there makes the campaign fail loudly (AttributeError
at load, or no targeted kill ever landing), not pass.

    claim           inside the intake transaction: events dequeued, runs planned, nothing committed
    claimed         the intake committed, its runs not started
    step-returned   a step's callable returned; its result is not journaled yet
    step-committed  a step's result is journaled; the handler has not gone on
    in-step         inside a step's callable, after its side effect
    run-ending      the handler returned; the run is not marked completed yet
    run-ended       the run is marked completed
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import durable_cli as durable
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
        _append(os.environ["CHAOS_KILLS"], f"{point} {_nth}")
        os.kill(os.getpid(), signal.SIGKILL)


def effect(tag: str, index: int) -> str:
    """The side effect: one line per real execution."""
    _append(os.environ["CHAOS_EFFECTS"], f"{tag} {index}")
    time.sleep(0.002)  # gives a kill from outside a chance to land inside the step
    reach("in-step")
    return f"{tag}-{index}"


@durable.function(id="chaos", trigger="chaos/go", retries=0)
def chaos(event: durable.Event, step: durable.Step) -> list[str]:
    """STEPS steps, each a side effect."""
    tag = event.data["tag"]
    return [step.run(f"s{i}", effect, tag, i) for i in range(STEPS)]


def _install() -> None:
    if _point not in POINTS or not _nth.isdigit():
        raise ValueError(f"DURABLE_TEST_CRASH_AT={_point}:{_nth}: unknown point")
    claim, save_step, save_run = (
        DiskcacheStore.claim_events,
        DiskcacheStore.save_step,
        DiskcacheStore.save_run,
    )

    def claim_events(self: DiskcacheStore, plan: Any, limit: int = 256) -> Any:
        def planned(event: dict[str, Any]) -> Any:
            runs = plan(event)
            reach("claim")
            return runs

        created = claim(self, planned, limit)
        if created:
            reach("claimed")
        return created

    def step_saved(self: DiskcacheStore, step: Any, **kwargs: Any) -> None:
        done = step.kind == "run" and step.status == "completed"
        if done:
            reach("step-returned")
        save_step(self, step, **kwargs)
        if done:
            reach("step-committed")

    def run_saved(self: DiskcacheStore, run: Any, **kwargs: Any) -> bool:
        done = run.status == "completed"
        if done:
            reach("run-ending")
        saved = save_run(self, run, **kwargs)
        if done:
            reach("run-ended")
        return saved

    DiskcacheStore.claim_events = claim_events  # type: ignore[method-assign]
    DiskcacheStore.save_step = step_saved  # type: ignore[method-assign]
    DiskcacheStore.save_run = run_saved  # type: ignore[method-assign]


if _point:
    _install()
