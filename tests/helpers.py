"""Small helpers any test may use."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.02, what: str = ""
) -> T:
    """Poll `condition` until it returns something truthy (returned); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


async def until(
    condition: Callable[[], T],
    timeout: float = 30.0,
    what: str = "",
    pause: Callable[[float], Awaitable[object]] | None = None,
) -> T:
    """The async twin of `wait_until`: yields to the loop (or `pause`, e.g. a Pilot's) between
    looks, so the app or engine under test keeps running."""
    deadline = time.monotonic() + timeout
    wait = pause or asyncio.sleep
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await wait(0.02)


def lines_of(stream: Iterable[str]) -> list[str]:
    """A list that a background thread fills with `stream`'s lines (a child process's output)
    as they come, up to its end: poll it with `wait_until`, never read a pipe that may be empty."""
    lines: list[str] = []

    def pump() -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return lines
