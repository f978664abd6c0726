"""Fail a step on purpose: the next attempt or every attempt, for this run or a function's runs."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

__all__ = ["FailRequest", "FailStepScreen"]


@dataclass(frozen=True, slots=True)
class FailRequest:
    """An injected failure to register (same mechanism as `durable fail`)."""

    step_id: str
    run_id: str | None
    function_id: str | None
    times: int  # 1: the next attempt; -1: every attempt
    message: str


class FailStepScreen(ModalScreen[FailRequest | None]):
    """Returns the failure to inject, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+n", "fail(1)", "Fail next attempt"),
        Binding("ctrl+e", "fail(-1)", "Fail every attempt"),
    ]

    def __init__(
        self,
        step_id: str,
        known_steps: list[str],
        run_id: str | None,
        function_id: str,
        *,
        run_live: bool,
    ) -> None:
        """Prefill `step_id`; offer this run's scope only while `run_live`."""
        super().__init__()
        self.step_id = step_id
        self.known_steps = known_steps
        self.run_id = run_id
        self.function_id = function_id
        self.run_live = run_live and run_id is not None

    def compose(self) -> ComposeResult:
        """Step id, scope, message, buttons."""
        with Vertical(id="fail-dialog", classes="dialog") as box:
            box.border_title = "Fail a step"
            yield Label("Step id")
            yield Input(
                self.step_id,
                suggester=SuggestFromList(self.known_steps),
                id="fail-step",
                compact=True,
            )
            with RadioSet(id="fail-scope"):
                yield RadioButton(
                    "this run", value=self.run_live, disabled=not self.run_live, id="scope-run"
                )
                yield RadioButton(
                    f"new attempts in any run of {self.function_id}",
                    value=not self.run_live,
                    id="scope-function",
                )
            yield Label("Message (optional)")
            yield Input(placeholder="injected failure", id="fail-message", compact=True)
            yield Static("", id="fail-error", classes="error-line")
            with Horizontal(classes="buttons"):
                yield Button("Cancel esc", id="cancel", compact=True)
                yield Button("Every attempt ^e", id="every", variant="warning", compact=True)
                yield Button("Next attempt ^n", id="next", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#fail-message" if self.step_id else "#fail-step", Input).focus()

    def _request(self, times: int) -> FailRequest | None:
        step_id = self.query_one("#fail-step", Input).value.strip()
        if not step_id:
            self.query_one("#fail-error", Static).update("✗ which step? type its id")
            return None
        this_run = self.query_one("#scope-run", RadioButton).value and self.run_live
        return FailRequest(
            step_id=step_id,
            run_id=self.run_id if this_run else None,
            function_id=None if this_run else self.function_id,
            times=times,
            message=self.query_one("#fail-message", Input).value.strip(),
        )

    def action_fail(self, times: int) -> None:
        """Inject: the next attempt (1) or every attempt (-1)."""
        request = self._request(times)
        if request is not None:
            self.dismiss(request)

    def action_cancel(self) -> None:
        """Close without failing anything."""
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_fail(1)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "next":
            self.action_fail(1)
        elif event.button.id == "every":
            self.action_fail(-1)
        else:
            self.dismiss(None)
