"""Send an event: a name (suggested from the loaded triggers) and JSON data checked as you type."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static
from textual.worker import get_current_worker

from ...engine import actions
from ...errors import StateError
from ..widgets.event_data import EventDataField, pretty
from ..widgets.json_editor import JsonEditor
from .file_picker import FilePickerScreen

__all__ = ["SendEventScreen", "SendRequest"]


@dataclass(frozen=True, slots=True)
class SendRequest:
    """What the user asked to send."""

    name: str
    data: dict[str, Any]


class SendEventScreen(ModalScreen[SendRequest | None]):
    """Returns the event to send, or None when cancelled."""

    BINDINGS = [  # priority: these win over the name box's and the editor's own keys
        Binding("escape", "cancel", "Cancel", priority=True),
        Binding("ctrl+s", "send", "Send", priority=True),
        Binding("ctrl+o", "load_file", "Load from file", priority=True),
    ]

    def __init__(
        self,
        triggers: list[str],
        name: str,
        last_data: Callable[[str], dict[str, Any] | None],
    ) -> None:
        """Suggest `triggers`, start with `name`; `last_data(name)` gives the last data sent."""
        super().__init__()
        self.triggers = triggers
        self.initial_name = name
        self.last_data = last_data
        self._prefilled = ""
        self._loading: str | None = None  # the name whose last data is being read
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        """Name, triggers hint, editor, inline error, buttons."""
        with Vertical(id="send-dialog", classes="dialog") as box:
            box.border_title = "Send an event"
            yield Label("Event name")
            yield Input(
                self.initial_name,
                placeholder="api/document.uploaded",
                suggester=SuggestFromList(self.triggers, case_sensitive=True),
                id="event-name",
                compact=True,
            )
            hint = ", ".join(self.triggers) if self.triggers else "no function is loaded"
            yield Static(f"triggers: {hint}", id="triggers", classes="hint")
            yield EventDataField(id="send-data")
            with Horizontal(classes="buttons"):
                yield Button("Load file ^o", id="load", compact=True)
                yield Button("Cancel esc", id="cancel", compact=True)
                yield Button("Send ^s", id="send", variant="primary", compact=True)

    def on_mount(self) -> None:
        self._prefill(self.initial_name)
        self.validate()
        self.query_one("#event-data" if self.initial_name else "#event-name").focus()

    # -- state ------------------------------------------------------------------------------
    @property
    def data_field(self) -> EventDataField:
        """The data: editor and error line."""
        return self.query_one("#send-data", EventDataField)

    @property
    def editor(self) -> JsonEditor:
        """The JSON editor."""
        return self.data_field.editor

    @property
    def name_input(self) -> Input:
        """The event name field."""
        return self.query_one("#event-name", Input)

    @property
    def loading(self) -> bool:
        """Whether the last data of the name typed is still being read."""
        return self._loading is not None

    def _untouched(self) -> bool:
        """Whether the editor holds nothing the user typed (empty, or what was prefilled)."""
        return self.editor.text.strip() in ("", "{}", self._prefilled.strip())

    def _prefill(self, name: str) -> None:
        """Fill the editor with the last data sent under `name`, unless the user has typed.

        The journal is read on a thread (a busy runner shares this loop), and the newest read
        wins: a name typed meanwhile makes an older answer moot.
        """
        if not self._untouched() or name == self._loading:
            return  # the user's own data, or that name's read is under way
        self._loading = name
        self._read_last(name)

    @work(thread=True, exclusive=True, group="prefill", exit_on_error=False)
    def _read_last(self, name: str) -> None:
        try:
            data = self.last_data(name) if name else None
        except StateError:  # a journal that can't be read now: no prefill, the dialog works
            data = None
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._fill, name, data)

    def _fill(self, name: str, data: dict[str, Any] | None) -> None:
        if name != self._loading:
            return  # a newer name is being read
        self._loading = None
        if not self._untouched():
            return
        self._prefilled = pretty(data)
        if self.editor.text != self._prefilled:
            self.editor.load_text(self._prefilled)

    def validate(self) -> SendRequest | None:
        """Check name and data; show the first problem inline and disable Send while any."""
        name = self.name_input.value.strip()
        data = self.data_field.check(name)
        request = None if data is None else SendRequest(name, data)
        self.error = self.data_field.error
        self.query_one("#send", Button).disabled = request is None
        return request

    # -- events -----------------------------------------------------------------------------
    @on(Input.Changed, "#event-name")
    def _name_changed(self, event: Input.Changed) -> None:
        self._prefill(event.value.strip())
        self.validate()

    @on(Input.Submitted, "#event-name")
    def _name_submitted(self) -> None:
        self.editor.focus()

    @on(JsonEditor.Changed, "#event-data")
    def _data_changed(self) -> None:
        self.validate()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions_by_id = {
            "send": self.action_send,
            "cancel": self.action_cancel,
            "load": self.action_load_file,
        }
        actions_by_id[event.button.id or "cancel"]()

    def action_send(self) -> None:
        """Send, if valid."""
        request = self.validate()
        if request is not None:
            self.dismiss(request)

    def action_cancel(self) -> None:
        """Close without sending."""
        self.dismiss(None)

    def action_load_file(self) -> None:
        """Pick a file and load its JSON into the editor."""
        start = "examples/events" if os.path.isdir("examples/events") else "."
        self.app.push_screen(FilePickerScreen(start), self._loaded)

    def _loaded(self, path: str | None) -> None:
        if path is None:
            return
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(actions.MAX_EVENT_BYTES + 1)
        except (OSError, UnicodeDecodeError) as exc:
            self.data_field.show_error(f"can't read {path}: {exc}")
            return
        self.editor.load_text(text)
        self.editor.focus()
        self.validate()
