"""Rerun a run, or replay it from a step, with its event's data as it was or edited first.

The dialog opens on its button, so `enter` replays the event as it was; `tab` goes to the
data (the send dialog's editor, checked as you type), `ctrl+s` replays with what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..widgets.event_data import EventDataField, pretty
from ..widgets.json_editor import JsonEditor

__all__ = ["ReplayDataScreen", "ReplayRequest"]


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    """Replay, with this data for the new run's event (None: the event as it was)."""

    data: dict[str, Any] | None


class ReplayDataScreen(ModalScreen[ReplayRequest | None]):
    """Returns what to replay with, or None when cancelled."""

    BINDINGS = [  # priority: these win over the editor's own keys
        Binding("escape", "cancel", "Cancel", priority=True),
        Binding("ctrl+s", "replay", "Replay", priority=True),
    ]

    def __init__(
        self, title: str, question: str, event: dict[str, Any], verb: str = "Rerun"
    ) -> None:
        """Ask `question` about replaying `event` (a run's, with `name` and `data`); the
        button says `verb`."""
        super().__init__()
        self.title_text = title
        self.question = question
        self.event_name = str(event.get("name", ""))
        self.original = event.get("data")
        self.verb = verb

    def compose(self) -> ComposeResult:
        """Question, the event's data in the editor, buttons."""
        with Vertical(id="replay-dialog", classes="dialog") as box:
            box.border_title = self.title_text
            yield Static(self.question, id="question")
            yield EventDataField(
                pretty(self.original),
                f"Data of {self.event_name} (a JSON object; tab to edit)",
                id="replay-data",
            )
            with Horizontal(classes="buttons"):
                yield Button("Cancel esc", id="cancel", compact=True)
                yield Button(f"{self.verb} ⏎ ^s", id="replay", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.validate()
        self.query_one("#replay", Button).focus()

    @property
    def data_field(self) -> EventDataField:
        """The data: editor and error line."""
        return self.query_one("#replay-data", EventDataField)

    @property
    def editor(self) -> JsonEditor:
        """The JSON editor."""
        return self.data_field.editor

    def validate(self) -> ReplayRequest | None:
        """The request the editor's data makes (None while it is not valid: the reason shown,
        the button disabled)."""
        data = self.data_field.check(self.event_name)
        self.query_one("#replay", Button).disabled = data is None
        if data is None:
            return None
        return ReplayRequest(None if data == (self.original or {}) else data)

    @on(JsonEditor.Changed, "#event-data")
    def _data_changed(self) -> None:
        self.validate()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "replay":
            self.action_replay()
        else:
            self.action_cancel()

    def action_replay(self) -> None:
        """Replay, if the data is valid."""
        request = self.validate()
        if request is not None:
            self.dismiss(request)

    def action_cancel(self) -> None:
        """Close without replaying."""
        self.dismiss(None)
