"""Pure formatting shared by the widgets: status icons, times, durations, bars, JSON text."""

from __future__ import annotations

import json
import time
from typing import Any

from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text

from ..engine import STEP_STATUSES, TERMINAL_RUN_STATUSES
from ..engine.kinds import KINDS, WAIT, Kind

__all__ = [
    "HELD_STATUSES",
    "ICONS",
    "SETTLED_STEP_STATUSES",
    "due_at",
    "duration_bar",
    "fmt_clock",
    "fmt_duration",
    "fmt_when",
    "held_text",
    "json_block",
    "kind_of",
    "one_line_json",
    "short_id",
    "short_type",
    "status_text",
    "step_state",
    "wait_text",
]

ICONS = {
    "queued": "○",
    "running": "●",
    "paused": "‖",
    "retrying": "↻",
    "sleeping": "◔",
    "waiting": "◌",
    "completed": "✓",
    "failed": "✗",
    "cancelled": "⊘",
}
# the statuses of a step that has run its course: the ends of a run that a step can have too
SETTLED_STEP_STATUSES = TERMINAL_RUN_STATUSES.intersection(STEP_STATUSES)
# what a step under way shows while its run waits on it (a timer or an event, not work): the
# status its kind holds the run in
HELD_STATUSES = frozenset(kind.run_status for kind in KINDS.values()) - {"running"}
_BLOCKS = " ▏▎▍▌▋▊▉█"


def short_id(run_id: str | None, width: int = 8) -> str:
    """The distinctive tail of a ULID (its head is the timestamp, shared by neighbours)."""
    if not run_id:
        return "-"
    return run_id[-width:].lower()


def short_type(name: str | None) -> str:
    """An exception type without its module (workflow modules get long generated names)."""
    return (name or "Error").rsplit(".", 1)[-1]


def fmt_clock(ms: int | None) -> str:
    """Local wall-clock time of an epoch-ms timestamp, `HH:MM:SS`."""
    if not ms:
        return "--:--:--"
    return time.strftime("%H:%M:%S", time.localtime(ms / 1000))


def fmt_when(ms: int, now_ms: int) -> str:
    """`14:05:09` on the day of `now_ms`, else `Dec 3 14:05` (`Dec 3 2027 14:05` another year)."""
    at, now = time.localtime(ms / 1000), time.localtime(now_ms / 1000)
    if at[:3] == now[:3]:
        return time.strftime("%H:%M:%S", at)
    year = "" if at.tm_year == now.tm_year else f" {at.tm_year}"
    return f"{time.strftime('%b', at)} {at.tm_mday}{year} {time.strftime('%H:%M', at)}"


def fmt_duration(ms: int | float | None) -> str:
    """A compact duration: 12ms, 3.4s, 2m05s, 1h02m."""
    if ms is None:
        return ""
    ms = max(0, int(ms))
    if ms < 1000:
        return f"{ms}ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f}s" if s < 10 else f"{s:.0f}s"
    m, s = divmod(int(s), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def duration_bar(ms: int | float | None, longest: int | float, width: int) -> str:
    """A bar `width` cells wide at most, proportional to `ms / longest` (eighth-cell steps)."""
    if not ms or longest <= 0 or width <= 0:
        return ""
    eighths = max(1, round(min(1.0, ms / longest) * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (_BLOCKS[part] if part else "")


def status_text(status: str, style: Style | str = "", *, word: bool = True) -> Text:
    """`● running` in `style` (widgets take the colour from their `status--*` CSS class)."""
    icon = ICONS.get(status, "?")
    return Text(f"{icon} {status}" if word else icon, style=style)


def one_line_json(value: Any, limit: int = 200) -> str:
    """Compact JSON on one line, cut at `limit` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_block(value: Any, *, theme: str = "ansi_dark") -> Syntax:
    """Indented, highlighted JSON for a step's output or an event's data."""
    try:
        text = json.dumps(value, ensure_ascii=False, indent=2)
    except (TypeError, ValueError):
        text = repr(value)
    return Syntax(text, "json", theme=theme, word_wrap=True, background_color="default")


def kind_of(step: dict[str, Any]) -> Kind | None:
    """The row of the kinds table for a step (a `run_detail` step dict); None: unknown."""
    return KINDS.get(step.get("kind") or "")


def due_at(step: dict[str, Any]) -> int | None:
    """When a step is due (epoch ms), from the meta field its kind names; None: no due time."""
    kind = kind_of(step)
    if kind is None or kind.due_field is None:
        return None
    return (step.get("meta") or {}).get(kind.due_field)


def step_state(step: dict[str, Any], run_status: str) -> str:
    """The status a step is shown with.

    A wait, sleep or child run in progress shows what its run does (`waiting`, `sleeping`)
    rather than `running`; an unfinished step of a cancelled run (paused, retrying…) shows
    `cancelled`, since it will never go on.
    """
    status = step["status"]
    if status in SETTLED_STEP_STATUSES:
        return status
    if run_status == "cancelled":
        return "cancelled"
    # the journal calls such a step "running" while its run is in the status its kind holds it
    kind = kind_of(step)
    held = kind.run_status if kind is not None else None
    return held if held in HELD_STATUSES and status == "running" and run_status == held else status


def wait_text(meta: dict[str, Any]) -> str:
    """`expense/decided with data.expense_id = "exp-88"`: what a wait step waits for."""
    text = str(meta.get("event") or "an event")
    if meta.get("match"):
        text += f" with {meta['match']} = {one_line_json(meta.get('expected'), 40)}"
    return text


def held_text(step: dict[str, Any], state: str, now_ms: int) -> str:
    """`waiting for expense/decided · until Dec 3 14:00`: a held step's `state` and its end."""
    meta = step.get("meta") or {}
    text = f"waiting for {wait_text(meta)}" if kind_of(step) is WAIT else state
    due = due_at(step)
    if due:
        text += f" · until {fmt_when(due, now_ms)}"
    return text
