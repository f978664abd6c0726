"""Pick which runs the list shows by status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..data import STATUS_FILTERS
from ..format import ICONS

__all__ = ["StatusFilterScreen"]


class StatusFilterScreen(ModalScreen[str | None]):
    """Returns the chosen filter name (see `STATUS_FILTERS`), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", priority=True)]  # whatever has focus

    def __init__(self, current: str) -> None:
        """Highlight `current`."""
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        """A list of filters."""
        with Vertical(id="filter-dialog", classes="dialog") as box:
            box.border_title = "Show runs"
            options = [
                Option(f"{ICONS.get(name, '*' if name == 'all' else '~')} {name}", id=name)
                for name in STATUS_FILTERS
            ]
            yield OptionList(*options, id="filter-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = list(STATUS_FILTERS).index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Keep the current filter."""
        self.dismiss(None)
