"""A yes/no question (for actions that can't be undone)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

__all__ = ["ConfirmScreen"]


class ConfirmScreen(ModalScreen[bool]):
    """Returns True for yes."""

    BINDINGS = [  # priority: whichever button has the focus (the dialog has no text box)
        Binding("y", "answer(True)", "Yes", priority=True),
        Binding("n,escape", "answer(False)", "No", priority=True),
    ]

    def __init__(self, title: str, question: str, yes: str = "Yes") -> None:
        """Ask `question`; the yes button says `yes`."""
        super().__init__()
        self.title_text = title
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        """Question and two buttons."""
        with Vertical(id="confirm-dialog", classes="dialog") as box:
            box.border_title = self.title_text
            yield Static(self.question, id="question")
            with Horizontal(classes="buttons"):
                yield Button("No n", id="no", compact=True)
                yield Button(f"{self.yes} y", id="yes", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
