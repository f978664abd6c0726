"""The right-hand pane: the selected run's header, its timeline and the selected row's content."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ...engine import run_detail
from ...errors import InputError
from ...store import Store
from ..data import open_waits
from ..format import (
    ACTIVE,
    ICONS,
    fmt_clock,
    fmt_duration,
    fmt_when,
    short_id,
    wait_text,
)
from .row_list import STATUS_CLASSES
from .step_timeline import StepTimeline, TimelineRow
from .step_view import StepView

__all__ = ["RunDetail", "RunHeader"]


class RunHeader(Static):
    """Status, function, id, timing, and why the run waits (step mode, a code-change hold)."""

    COMPONENT_CLASSES = STATUS_CLASSES | {"run-header--muted", "run-header--warning"}

    def __init__(self, now_ms: Callable[[], int], **kwargs: Any) -> None:
        """`now_ms` ages runs still going."""
        super().__init__(**kwargs)
        self.now_ms = now_ms

    def show(self, detail: dict[str, Any] | None) -> None:
        """Render the header for `detail` (a `run_detail` dict) or a hint when None."""
        if detail is None:
            self.update(Text("No run selected. Press s to send an event.", style="dim"))
            return
        style = self.get_component_rich_style
        status = detail["status"]
        muted = style("run-header--muted", partial=True)
        warn = style("run-header--warning", partial=True)
        text = Text(no_wrap=False)
        text.append(f"{ICONS.get(status, '?')} {status}", style(f"status--{status}", partial=True))
        text.append("  ")
        text.append(detail["function"], "bold")
        text.append("\n")
        text.append("run ", muted)
        text.append(detail["id"])
        started = detail.get("started_at")
        text.append(f"\nstarted {fmt_clock(started or detail.get('created_at'))}", muted)
        took = detail.get("duration_ms")
        if took is None and started and status in ACTIVE:
            took = self.now_ms() - started
        if took is not None:
            text.append(f" · took {fmt_duration(took)}", muted)
        if detail.get("replay_of"):
            text.append(f" · replay of {short_id(detail['replay_of'])}", muted)
            if detail.get("meta", {}).get("replay_from"):
                text.append(f" from {detail['meta']['replay_from']}", muted)
        if detail.get("step_mode") and status in ACTIVE:
            text.append(" · ")
            text.append("step mode", warn)
        reason = detail.get("reason")
        if status == "paused" and reason:
            hint = ""
            if reason.startswith("code changed"):
                hint = " (C: continue anyway, R: rerun)"
            elif reason.startswith("step mode"):
                hint = " (n: run it)"
            text.append(f"\n{reason}{hint}", warn)
        elif status in ("retrying", "sleeping", "waiting"):
            held, hint = self._held(detail)
            if held:
                text.append(f"\n{held}", muted)
                if hint:
                    text.append(f" ({hint})", muted)
        self.update(text)

    def _held(self, detail: dict[str, Any]) -> tuple[str, str]:
        """What a retrying, sleeping or waiting run waits for and until when, and the key that
        ends the wait (only one that works for this run)."""
        status, now, wake = detail["status"], self.now_ms(), detail.get("wake_at")
        if status == "waiting":
            waits = open_waits(detail)
            if not waits:  # a child run (invoke): the engine's reason names it
                return detail.get("reason") or "", ""
            meta = waits[0].get("meta") or {}
            line = f"waiting for {wait_text(meta)}"
            if len(waits) > 1:
                line += f" (and {len(waits) - 1} more)"
            if meta.get("expires"):
                line += f"\nuntil {fmt_when(meta['expires'], now)}, then the wait returns None"
            return line, f"s: send {meta.get('event', 'it')}"
        if not wake:
            return "", ""
        if status == "sleeping":
            return f"sleeping until {fmt_when(wake, now)}", "r: wake now"
        return f"retries at {fmt_when(wake, now)}", "r: retry now"


class RunDetail(Vertical):
    """Header, timeline and step view for one run, re-read from the journal on each change."""

    def __init__(self, store: Store, now_ms: Callable[[], int], **kwargs: Any) -> None:
        """Read runs from `store`."""
        super().__init__(**kwargs)
        self.store = store
        self.run_id: str | None = None
        self.detail: dict[str, Any] | None = None
        self.header = RunHeader(now_ms, id="run-header")
        self.timeline = StepTimeline(now_ms, id="timeline")
        self.view = StepView(now_ms, id="step-view")

    def compose(self) -> ComposeResult:
        """Header over timeline over step view."""
        yield self.header
        yield self.timeline
        yield self.view

    def on_mount(self) -> None:
        self.header.show(None)
        self.view.show(None, None)

    @property
    def selected_row(self) -> TimelineRow | None:
        """The timeline row under the cursor."""
        return self.timeline.selected if self.detail else None

    @property
    def selected_step(self) -> dict[str, Any] | None:
        """The step under the timeline cursor, if it is a step."""
        row = self.selected_row
        return row.step if row is not None and row.kind == "step" else None

    def show_run(self, run_id: str | None) -> None:
        """Show `run_id` (re-reading it when it is the one shown)."""
        same = run_id is not None and run_id == self.run_id
        self.run_id = run_id
        try:
            self.detail = run_detail(self.store, run_id) if run_id else None
        except InputError:
            self.detail = None
        self.header.show(self.detail)
        self.timeline.show(self.detail, same_run=same)
        self.timeline.display = self.detail is not None
        if self.detail is None:
            self.view.show(None, None)
        title = "Run" if self.detail is None else f"Run {short_id(self.run_id)}"
        if self.border_title != title:  # setting it redraws the whole pane, even to the same
            self.border_title = title

    def refresh_run(self) -> None:
        """Re-read the run shown."""
        if self.run_id is not None:
            self.show_run(self.run_id)

    def on_step_timeline_highlighted(self, message: StepTimeline.Highlighted) -> None:
        self.view.show(self.detail, message.row)
