"""The `durable dev --headless` log: one line per change, flushed at once."""

from __future__ import annotations

import collections
import threading
import time
from typing import TextIO

from ..engine import Change

__all__ = ["HeadlessLog", "format_change", "format_duration"]

_RED, _RESET = "\x1b[31m", "\x1b[0m"
_FLUSH_DELAY_S = 0.005
_COLORS = {
    "completed": "\x1b[32m",
    "failed": _RED,
    "retrying": "\x1b[33m",
    "running": "\x1b[36m",
    "cancelled": "\x1b[35m",
    "paused": "\x1b[34m",
    "sleeping": "\x1b[34m",
    "waiting": "\x1b[34m",
}


def format_duration(ms: int | None) -> str:
    """`12ms`, `1.25s`, `3m05s`; empty when unknown."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f}s"
    return f"{ms // 60_000}m{(ms // 1000) % 60:02d}s"


_last_second: tuple[int, str] = (-1, "")  # a busy log writes many lines per second
_MILLIS = [f".{ms:03d}" for ms in range(1000)]


def _clock(at: int) -> str:
    global _last_second
    last = _last_second  # one tuple, swapped whole: threads never see half an update
    if last[0] != at // 1000:
        second = at // 1000
        last = _last_second = (second, time.strftime("%H:%M:%S", time.localtime(second)))
    return last[1] + _MILLIS[at % 1000]


def _paint(text: str, code: str | None, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color and code else text


# the status column, padded (and painted): made once per status, not once per line
_CELLS = tuple(
    {s: _paint(s.ljust(9), _COLORS.get(s), color) for s in (*_COLORS, "queued", "")}
    for color in (False, True)
)


def format_change(change: Change, *, color: bool = False, fn_width: int = 24) -> str:
    """One log line: time, run id, function, step, status, attempt, duration, error."""
    return _format(change, color, fn_width)


def _format(change: Change, color: bool, fn_width: int) -> str:
    when = _clock(change.at)
    kind = change.kind
    if kind == "run" or kind == "step":
        # one f-string rather than a list of cells: a busy runner writes a dozen lines per run
        status = change.status or ""
        cell = _CELLS[color].get(status) or _paint(status.ljust(9), _COLORS.get(status), color)
        line = (
            f"{when}  {change.run_id or '-'}  {(change.function or '-').ljust(fn_width)}"
            f"  {(change.step_id or '-').ljust(20)}  {cell}"
        )
        attempt = change.attempt
        if attempt and attempt > 1:
            line += f"  attempt {attempt}"
        if change.duration_ms is not None:
            line += "  " + format_duration(change.duration_ms)
        if change.error:
            line += "  " + _paint(change.error, _RED, color)
        return line.rstrip()
    # reloads, load errors, code changes, engine faults: time, what, and what it says
    detail = change.error or ""
    if change.kind == "reload":
        names = ", ".join(change.detail.get("functions", ())) or "no functions"
        detail = f"reloaded: {names} ({format_duration(change.duration_ms)})"
    elif change.run_id:
        detail = f"run {change.run_id}: {detail}"
    code = _RED if change.error else None
    return f"{when}  {_paint(change.kind, code, color)}  {_paint(detail, code, color)}".rstrip()


class HeadlessLog:
    """A `Listener` that writes one line per change; safe to call from worker threads.

    Lines are written and flushed by a helper thread within a few milliseconds rather than one
    by one: a flush per line cost busy runners a sixth of their throughput, and a lock around
    each write made a dozen worker threads queue for it. Idle, the helper just waits.
    """

    def __init__(self, out: TextIO, *, color: bool = False, fn_width: int = 24) -> None:
        """Write to `out` (ANSI colours only if `color`)."""
        self.out = out
        self.color = color
        self.fn_width = fn_width
        self._lines: collections.deque[str] = collections.deque()  # appends need no lock
        self._lock = threading.Lock()  # one writer to `out` at a time
        self._dirty = threading.Event()
        threading.Thread(target=self._flusher, name="durable-log", daemon=True).start()

    def __call__(self, change: Change) -> None:
        """Queue one line for `change` (written and flushed within a few ms, or by `flush`)."""
        self._lines.append(_format(change, self.color, self.fn_width))
        if not self._dirty.is_set():  # set() takes a lock; the flusher clears before it writes
            self._dirty.set()

    def flush(self) -> None:
        """Write and flush every line queued so far."""
        with self._lock:
            lines, taken = self._lines, []
            while lines:
                taken.append(lines.popleft())
            if taken:
                self.out.write("\n".join(taken) + "\n")
            self.out.flush()

    def _flusher(self) -> None:
        while True:
            self._dirty.wait()
            time.sleep(_FLUSH_DELAY_S)  # let the lines of a burst share one write
            self._dirty.clear()
            self.flush()
