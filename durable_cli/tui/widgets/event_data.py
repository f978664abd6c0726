"""An event's data, edited as JSON and checked as you type: the send and replay dialogs' field.

A label, the JSON editor and a one-line error under it. `check(name)` says whether the text is
data an event named `name` can carry (the engine's own check), shows the reason when it is not,
and marks the field `-invalid` for the CSS.
"""

from __future__ import annotations

import json
from typing import Any

from textual.containers import Vertical
from textual.widgets import Label, Static

from ...engine import actions
from ...errors import InputError
from .json_editor import JsonEditor

__all__ = ["EventDataField", "pretty"]


def pretty(data: dict[str, Any] | None) -> str:
    """`data` as the editor shows it: indented JSON (an empty object for None)."""
    return json.dumps(data or {}, indent=2, ensure_ascii=False)


class EventDataField(Vertical):
    """Label, JSON editor (`#event-data`) and the error line (`#data-error`)."""

    def __init__(
        self, text: str = "{}", label: str = "Data (a JSON object)", **kwargs: Any
    ) -> None:
        """Start with `text` in the editor, under `label`."""
        # the parts are made here, not in a compose of its own: they mount with the dialog, so
        # the dialog's on_mount can focus the editor
        super().__init__(
            Label(label),
            JsonEditor(text, id="event-data"),
            Static("", id="data-error", classes="error-line"),
            **kwargs,
        )
        self.error: str | None = None

    @property
    def editor(self) -> JsonEditor:
        """The JSON editor."""
        return self.query_one("#event-data", JsonEditor)

    def check(self, name: str) -> dict[str, Any] | None:
        """The data if an event named `name` can carry it, else None (the reason shown)."""
        data, error = self.editor.parse()
        if error is None:
            try:
                actions.make_event(name, data)
            except InputError as exc:
                error = str(exc)
        self.show_error(error)
        return data if error is None else None

    def show_error(self, error: str | None) -> None:
        """Show `error` under the editor (None: clear it)."""
        self.error = error
        self.query_one("#data-error", Static).update(f"✗ {error}" if error else "")
        self.set_class(error is not None, "-invalid")
