"""The run's timeline: its event, each step (status, attempts, duration bar), then its result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.message import Message

from ...engine import TERMINAL_RUN_STATUSES
from ..format import (
    HELD_STATUSES,
    ICONS,
    due_at,
    duration_bar,
    fmt_duration,
    fmt_when,
    kind_of,
    step_state,
)
from .row_list import RowList

__all__ = ["StepTimeline", "TimelineRow"]

TIMES = "\u00d7"


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One row: `kind` is "event", "step" or "result"; `step` is the step's dict for steps."""

    kind: str
    key: str
    step: dict[str, Any] | None = None


class StepTimeline(RowList):
    """Rows for one run's detail (from `run_detail`); the cursor picks what the step view shows."""

    class Highlighted(Message):
        """The cursor moved onto a row of the timeline."""

        def __init__(self, row: TimelineRow) -> None:
            """Carry the row."""
            super().__init__()
            self.row = row

    def __init__(self, now_ms: Callable[[], int], **kwargs: Any) -> None:
        """`now_ms` measures steps still running."""
        super().__init__(**kwargs)
        self.now_ms = now_ms
        self.detail: dict[str, Any] | None = None
        self.rows: list[TimelineRow] = []

    @property
    def selected(self) -> TimelineRow | None:
        """The row under the cursor."""
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def row_count(self) -> int:
        """Event + steps + result."""
        return len(self.rows)

    def show(self, detail: dict[str, Any] | None, *, same_run: bool) -> None:
        """Show a run's detail; on a refresh of the same run the cursor follows the last row."""
        was_last = not self.rows or self.cursor >= len(self.rows) - 1
        keep = self.selected.key if (same_run and self.selected) else None
        self.detail = detail
        rows: list[TimelineRow] = []
        if detail is not None:
            rows.append(TimelineRow("event", "@event"))
            rows.extend(TimelineRow("step", s["id"], s) for s in detail["steps"])
            if detail["status"] in TERMINAL_RUN_STATUSES:
                rows.append(TimelineRow("result", "@result"))
        self.rows = rows
        self.rows_changed()
        keys = [r.key for r in rows]
        if not same_run:
            index = self._first_interesting()
        elif keep in keys and not was_last:
            index = keys.index(keep)
        else:
            index = len(rows) - 1  # following the run as it goes
        self.set_cursor(max(0, index))

    def _first_interesting(self) -> int:
        """On opening a run: the step it is stuck on (paused, failed, retrying) or its end."""
        for i, row in enumerate(self.rows):
            if row.step and row.step["status"] != "completed":
                return i
        return len(self.rows) - 1

    def cursor_moved(self, index: int) -> None:
        """Tell the detail pane which row to show."""
        if 0 <= index < len(self.rows):
            self.post_message(self.Highlighted(self.rows[index]))

    # -- drawing ----------------------------------------------------------------------------
    def _span(self, step: dict[str, Any]) -> int | None:
        """From the first attempt (not from a step-mode pause before it) to the end."""
        log = step.get("attempt_log") or ()
        start = log[0]["started_at"] if log else None
        if start is None:
            return None
        end = step.get("ended_at")
        if end is None and step["status"] in ("running", "retrying"):
            # a step cut short by a cancel ended with its run, not now
            end = (self.detail or {}).get("ended_at") or self.now_ms()
        return None if end is None else end - start

    def render_row(self, index: int, width: int) -> Text:
        """`✓ classify-document  x2 ████▌  1.2s` (x: times sign), fitted to the width."""
        row = self.rows[index]
        muted = self.style_for("row-list--muted")
        accent = self.style_for("row-list--accent")
        detail = self.detail or {}
        text = Text(no_wrap=True, overflow="ellipsis")
        if row.kind == "event":
            event = detail.get("event") or {}
            text.append("⚑ ", accent)
            text.append("event ", muted)
            text.append(str(event.get("name", "")), accent)
            return text
        if row.kind == "result":
            status = detail.get("status", "")
            text.append(f"{ICONS.get(status, '?')} ", self.style_for(f"status--{status}"))
            text.append("result ", muted)
            text.append(status, self.style_for(f"status--{status}"))
            return text
        step = row.step or {}
        run_status = detail.get("status", "")
        state = step_state(step, run_status)
        style = self.style_for(f"status--{state}")
        spans = [
            self._span(s) or 0
            for s in detail.get("steps", ())
            if step_state(s, run_status) not in HELD_STATUSES
        ]
        longest = max(spans, default=0)
        bar_width = max(0, min(24, (width - 30) // 2)) if width >= 34 else 0
        tail = (bar_width + 1 if bar_width else 0) + 7
        fixed = 2 + 4 + tail
        id_width = max(6, width - fixed)
        sid = step["id"] if len(step["id"]) <= id_width else step["id"][: id_width - 1] + "…"
        text.append(f"{ICONS.get(state, '?')} ", style)
        text.append(f"{sid:<{id_width}}")
        # held on a timer or an event: when it ends, not a bar that grows for days
        if state in HELD_STATUSES:  # one attempt, no bar: the room goes to when it ends
            text.append(f" {self._until(step, tail + 3):>{tail + 3}}", muted)
            return text
        attempts = step.get("attempts") or 0
        text.append(
            f" {TIMES + str(attempts) if attempts > 1 else '':<3}",
            self.style_for("status--retrying") if attempts > 1 else muted,
        )
        span = self._span(step)
        if bar_width:
            copied = step.get("copied_from")
            bar = duration_bar(span, longest, bar_width) if span and not copied else ""
            text.append(f" {bar:<{bar_width}}", style)
        label = fmt_duration(span) if span is not None else ""
        if step.get("copied_from"):
            label = "copied"
        elif not label:
            label = _mark(step)
        text.append(f" {label:>6}", muted)
        return text

    def _until(self, step: dict[str, Any], width: int) -> str:
        """`until Dec 3 14:00` for a wait or sleep under way, shortened to fit `width`."""
        due, mark = due_at(step), _mark(step)
        if not due:
            return mark
        when = fmt_when(due, self.now_ms())
        return next((t for t in (f"until {when}", when) if len(t) <= width), mark)


def _mark(step: dict[str, Any]) -> str:
    """The short tag of a step's kind ("wait"), empty for a plain step."""
    kind = kind_of(step)
    return kind.mark if kind is not None else ""
