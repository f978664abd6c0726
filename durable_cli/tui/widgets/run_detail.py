"""The right-hand pane: the selected run's header, its timeline and the selected row's content."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from ...engine import ACTIVE_RUN_STATUSES, TIMER_STATUSES
from ..data import Journal, open_waits
from ..format import (
    ICONS,
    fmt_clock,
    fmt_duration,
    fmt_when,
    short_id,
    wait_text,
)
from ..reads import Read, ReadQueue
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
        if took is None and started and status in ACTIVE_RUN_STATUSES:
            took = self.now_ms() - started
        if took is not None:
            text.append(f" · took {fmt_duration(took)}", muted)
        if detail.get("replay_of"):
            text.append(f" · replay of {short_id(detail['replay_of'])}", muted)
            if detail.get("meta", {}).get("replay_from"):
                text.append(f" from {detail['meta']['replay_from']}", muted)
        if detail.get("step_mode") and status in ACTIVE_RUN_STATUSES:
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
        elif status in TIMER_STATUSES:
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
    """Header, timeline and step view for one run, read again from the journal on each change.

    The run is read in a worker: `show_run` asks for it, and it shows once the `Loaded`
    message comes back (which then bubbles up to the screen). Until then the pane goes on
    showing the run it showed.
    """

    class Loaded(Message):
        """A run was read (`detail` None: there is no such run)."""

        def __init__(self, run_id: str, detail: dict[str, Any] | None) -> None:
            """Carry the run id and what `run_detail` gives for it."""
            super().__init__()
            self.run_id = run_id
            self.detail = detail

    def __init__(self, journal: Journal, now_ms: Callable[[], int], **kwargs: Any) -> None:
        """Read runs through `journal`."""
        super().__init__(**kwargs)
        self.journal = journal
        self.run_id: str | None = None  # the run shown
        self.wanted: str | None = None  # the run asked for, shown once read
        self.detail: dict[str, Any] | None = None
        self.header = RunHeader(now_ms, id="run-header")
        self.timeline = StepTimeline(now_ms, id="timeline")
        self.view = StepView(now_ms, id="step-view")
        self._reads = ReadQueue(self, "detail")

    def compose(self) -> ComposeResult:
        """Header over timeline over step view."""
        yield self.header
        yield self.timeline
        yield self.view

    def on_mount(self) -> None:
        self.header.show(None)
        self.view.show(None, None)

    @property
    def reading(self) -> bool:
        """Whether a read of the journal is under way or waiting."""
        return self._reads.busy

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
        """Show `run_id` once read (read it again when it is the one shown); None: no run."""
        self.wanted = run_id
        if run_id is None:
            self._show(None, None)
        else:
            self._reads.ask(self._read, "run")

    def refresh_run(self) -> None:
        """Read the run shown (or asked for) again."""
        if self.wanted is not None:
            self.show_run(self.wanted)

    def _read(self) -> Read | None:
        run_id = self.wanted  # at its turn: the newest run asked for
        return None if run_id is None else partial(self._load, run_id)

    def _load(self, run_id: str) -> Message:
        """On a worker thread."""
        return self.Loaded(run_id, self.journal.run(run_id))

    def on_run_detail_loaded(self, message: RunDetail.Loaded) -> None:
        if message.run_id != self.wanted:
            message.stop()  # another run was asked for since: it is read next
            return
        self._show(message.run_id, message.detail)

    def _show(self, run_id: str | None, detail: dict[str, Any] | None) -> None:
        same = run_id is not None and run_id == self.run_id
        self.run_id = run_id
        self.detail = detail
        self.header.show(detail)
        self.timeline.show(detail, same_run=same)
        self.timeline.display = detail is not None
        if detail is None:
            self.view.show(None, None)
        title = "Run" if detail is None else f"Run {short_id(run_id)}"
        if self.border_title != title:  # setting it redraws the whole pane, even to the same
            self.border_title = title

    def on_step_timeline_highlighted(self, message: StepTimeline.Highlighted) -> None:
        self.view.show(self.detail, message.row)
