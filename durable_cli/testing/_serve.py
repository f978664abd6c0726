"""Serving one throw-away engine until its work is done, for `run_function` and `replay`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..engine import Engine

__all__ = ["off_loop", "serve_until_idle"]

_T = TypeVar("_T")
_TIMELINE_TAIL = 30


def off_loop(work: Callable[[], _T]) -> _T:
    """Call `work` here, or on a thread of its own when this thread runs an event loop (an
    async test): the engine needs a loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(1, thread_name_prefix="durable-run-function") as pool:
        return pool.submit(work).result()


def serve_until_idle(
    engine: Engine,
    loop: asyncio.AbstractEventLoop,
    run_id: str,
    timeout: float,
    what: str,
    timeline: Callable[[], str],
) -> None:
    """Serve `engine` on `loop` (not running, and kept open) from the queued run `run_id` until
    nothing can progress (the engine is left open: the caller closes it); a TimeoutError after
    `timeout` seconds of wall time names `what` and shows the tail of `timeline()`."""
    try:
        loop.run_until_complete(asyncio.wait_for(_serve(engine, run_id), timeout))
    except TimeoutError:
        lines = timeline().splitlines()
        if len(lines) > _TIMELINE_TAIL + 1:  # a runaway loop: its latest steps tell the story
            skipped = len(lines) - _TIMELINE_TAIL - 1
            lines = [lines[0], f"  … {skipped} earlier lines", *lines[-_TIMELINE_TAIL:]]
        text = "\n".join(lines)
        raise TimeoutError(
            f"{what} did not finish within {timeout:g}s of wall time\n{text}"
        ) from None


async def _serve(engine: Engine, run_id: str) -> None:
    # the journal is new and holds this one run: it goes at once, with no recovery scan of
    # the journal first (what a runner starting on an old state dir needs)
    engine.push(run_id)
    await engine.serve(until_idle=True, cron=False, recover=False)
