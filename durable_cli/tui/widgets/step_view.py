"""What the timeline's cursor points at: the event's data, a step's output or error and every
attempt it made, or the run's result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...engine.kinds import SLEEP, WAIT
from ..format import (
    HELD_STATUSES,
    ICONS,
    due_at,
    fmt_clock,
    fmt_duration,
    held_text,
    json_block,
    kind_of,
    short_id,
    short_type,
    step_state,
    wait_text,
)
from .row_list import STATUS_CLASSES
from .step_timeline import TimelineRow

__all__ = ["StepView"]


class StepView(VerticalScroll, can_focus=True):
    """A scrollable read-only view of one timeline row."""

    COMPONENT_CLASSES = STATUS_CLASSES

    def __init__(self, now_ms: Callable[[], int], **kwargs: Any) -> None:
        """`now_ms` measures attempts still running."""
        super().__init__(**kwargs)
        self.now_ms = now_ms
        self._body = Static(id="step-view-body")

    def compose(self) -> ComposeResult:
        """One Static holding the rendered content."""
        yield self._body

    def show(self, detail: dict[str, Any] | None, row: TimelineRow | None) -> None:
        """Render `row` of the run `detail` (nothing when there is no run)."""
        st = self._style
        if detail is None or row is None:
            self._body.update(Text("Select a run to see its steps.", style="dim"))
            return
        if row.kind == "event":
            self._body.update(_event(detail))
        elif row.kind == "result":
            self._body.update(_result(detail, st))
        else:
            self._body.update(self._step(detail, row.step or {}))

    def _style(self, status: str) -> Style:
        return self.get_component_rich_style(f"status--{status}", partial=True)

    def _step(self, detail: dict[str, Any], step: dict[str, Any]) -> RenderableType:
        status = step_state(step, detail["status"])
        held = status in HELD_STATUSES  # on a timer or an event: no attempt to time
        st = self._style
        head = Text()
        head.append(step["id"], "bold")
        shown = held_text(step, status, self.now_ms()) if held else status
        head.append(f"  {ICONS.get(status, '?')} {shown}", st(status))
        n = step.get("attempts") or 0
        if not held:
            head.append(f"  · {n} attempt{'s' if n != 1 else ''}", "dim")
        parts: list[RenderableType] = [head]
        if step.get("copied_from"):
            parts.append(
                Text(
                    f"Copied from run {short_id(step['copied_from'])} by a replay: not run again.",
                    style="dim italic",
                )
            )
        if status == "paused":
            parts.append(
                Text("Paused before this step (step mode): press n to run it.", style=st("paused"))
            )
        parts.extend(_pending_failures(detail, step["id"], st))
        meta, kind, due = step.get("meta") or {}, kind_of(step), due_at(step)
        if kind is SLEEP and due and not held:
            parts.append(Text(f"Sleeping until {fmt_clock(due)}", style="dim"))
        if kind is WAIT and meta.get("event") and not held:
            parts.append(Text(f"Waited for {wait_text(meta)}", style="dim"))
        if kind is WAIT and held:
            parts.append(Text("At the timeout the wait returns None.", style="dim"))
        if status == "completed" or step.get("output") is not None:
            typed = meta.get("type")  # a typed step's value shows as its JSON, named by its type
            parts += [_heading(f"Output ({typed})" if typed else "Output")]
            parts.append(json_block(step.get("output")))
        if step.get("error"):
            parts += [_heading("Error"), *_error(step["error"], st)]
        log = [] if held else step.get("attempt_log") or []
        if log:
            parts.append(_heading("Attempts"))
            parts.extend(self._attempt(i, a) for i, a in enumerate(log, 1))
        return Group(*parts)

    def _attempt(self, number: int, attempt: dict[str, Any]) -> Text:
        line = Text()
        started = attempt.get("started_at")
        ended = attempt.get("ended_at")
        took = (ended or self.now_ms()) - started if started else None
        err = attempt.get("error")
        st = self._style
        if err:
            line.append("✗ ", st("failed"))
        elif ended:
            line.append("✓ ", st("completed"))
        else:
            line.append("● ", st("running"))
        line.append(f"#{number} ", "bold")
        line.append(f"{fmt_clock(started)} {fmt_duration(took):>6}", "dim")
        if err:
            line.append(f"  {short_type(err.get('type'))}: {err.get('message', '')}")
        if attempt.get("injected"):
            line.append("  (injected)", st("retrying"))
        return line


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _error(error: dict[str, Any], st: Callable[[str], Style]) -> list[RenderableType]:
    out: list[RenderableType] = [
        Text(f"{short_type(error.get('type'))}: {error.get('message', '')}", style=st("failed"))
    ]
    tb = (error.get("traceback") or "").rstrip()
    if tb:
        out.append(
            Syntax(tb, "pytb", theme="ansi_dark", word_wrap=True, background_color="default")
        )
    return out


def _event(detail: dict[str, Any]) -> RenderableType:
    event = detail.get("event") or {}
    head = Text()
    head.append("Event ", "dim")
    head.append(str(event.get("name", "")), "bold")
    sub = Text(f"id {event.get('id', '')} · sent {fmt_clock(event.get('ts'))}", style="dim")
    parts: list[RenderableType] = [head, sub, _heading("Data"), json_block(event.get("data"))]
    return Group(*parts)


def _result(detail: dict[str, Any], st: Callable[[str], Style]) -> RenderableType:
    status = detail["status"]
    head = Text()
    head.append("Run ", "dim")
    head.append(f"{ICONS.get(status, '?')} {status}", st(status))
    took = detail.get("duration_ms")
    if took is not None:
        head.append(f" in {fmt_duration(took)}", "dim")
    parts: list[RenderableType] = [head]
    if detail.get("reason"):
        parts.append(Text(detail["reason"], style="dim"))
    if status == "completed":
        parts += [_heading("Output"), json_block(detail.get("output"))]
    if detail.get("error"):
        parts += [_heading("Error"), *_error(detail["error"], st)]
    return Group(*parts)


def _pending_failures(
    detail: dict[str, Any], step_id: str, st: Callable[[str], Style]
) -> list[Text]:
    """A line per injected failure still waiting for this step (this run's or its function's)."""
    lines = []
    for f in detail.get("pending_failures") or ():
        if f["step"] != step_id:
            continue
        where = "this run" if f["run"] else f"every run of {f['function']}"
        text = Text("⚠ injected failure pending: ", style=st("retrying"))
        text.append(f"{f['remaining']} ({where}). Press x to remove it.")
        lines.append(text)
    return lines
