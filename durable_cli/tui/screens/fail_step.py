"""Fail a step on purpose: the next attempt or every attempt, for this run or a function's runs;
or remove a failure injected before that has not happened yet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from ...store import PendingFailure

__all__ = ["FailRequest", "FailStepScreen"]


@dataclass(frozen=True, slots=True)
class FailRequest:
    """An injected failure to register (same mechanism as `durable fail`)."""

    step_id: str
    run_id: str | None
    function_id: str | None
    times: int  # 1: the next attempt; -1: every attempt
    message: str
    clear: bool = False  # remove the failure pending there instead of adding one


class FailStepScreen(ModalScreen[FailRequest | None]):
    """Returns the failure to inject, or None."""

    # priority: the dialog's keys must beat the text boxes' own (ctrl+e is end-of-line there)
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", priority=True),
        Binding("ctrl+n", "fail(1)", "Fail next attempt", priority=True),
        Binding("ctrl+e", "fail(-1)", "Fail every attempt", priority=True),
        Binding("ctrl+r", "remove", "Remove pending failure", priority=True),
    ]

    def __init__(
        self,
        step_id: str,
        known_steps: list[str],
        run_id: str | None,
        function_id: str,
        *,
        run_live: bool,
        pending: Sequence[PendingFailure] = (),
    ) -> None:
        """Prefill `step_id`; offer this run's scope only while `run_live`; `pending`: the
        injected failures not used up yet that can hit this run or function (removable here)."""
        super().__init__()
        self.step_id = step_id
        self.known_steps = known_steps
        self.run_id = run_id
        self.function_id = function_id
        self.run_live = run_live and run_id is not None
        self.pending = list(pending)
        self._removable = False  # whether the typed step has a pending failure to remove

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
            yield Static("", id="fail-pending", classes="hint")
            yield Label("Message (optional)")
            yield Input(placeholder="injected failure", id="fail-message", compact=True)
            yield Static("", id="fail-error", classes="error-line")
            with Horizontal(classes="buttons"):
                yield Button("Cancel esc", id="cancel", compact=True)
                yield Button("Remove pending ^r", id="remove", compact=True)
                yield Button("Every attempt ^e", id="every", variant="warning", compact=True)
                yield Button("Next attempt ^n", id="next", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#fail-message" if self.step_id else "#fail-step", Input).focus()
        self._show_pending()

    @property
    def typed_step(self) -> str:
        """The step id as typed so far."""
        return self.query_one("#fail-step", Input).value.strip()

    def _this_run(self) -> bool:
        return self.query_one("#scope-run", RadioButton).value and self.run_live

    def pending_for_step(self) -> list[PendingFailure]:
        """The pending failures of the typed step, the chosen scope's first."""
        step, this_run = self.typed_step, self._this_run()
        found = [f for f in self.pending if f.step == step]
        return sorted(found, key=lambda f: (f.run is not None) != this_run)

    @on(Input.Changed, "#fail-step")
    @on(RadioSet.Changed)
    def _show_pending(self) -> None:
        found = self.pending_for_step()
        lines = [
            f"⚠ pending: {f.remaining} ({'this run' if f.run else f'every run of {f.function}'})"
            for f in found
        ]
        self.query_one("#fail-pending", Static).update("\n".join(lines))
        self.query_one("#remove", Button).display = bool(found)
        if self._removable != bool(found):
            self._removable = bool(found)
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer "remove" only while the typed step has a failure pending."""
        return self._removable if action == "remove" else True

    def _request(self, times: int) -> FailRequest | None:
        step_id = self.typed_step
        if not step_id:
            self.query_one("#fail-error", Static).update("✗ which step? type its id")
            return None
        this_run = self._this_run()
        return FailRequest(
            step_id=step_id,
            run_id=self.run_id if this_run else None,
            function_id=None if this_run else self.function_id,
            times=times,
            message=self.query_one("#fail-message", Input).value.strip(),
        )

    def action_remove(self) -> None:
        """Remove the typed step's pending failure (the chosen scope's, else the only one)."""
        found = self.pending_for_step()
        if not found:
            self.query_one("#fail-error", Static).update(
                f"✗ no injected failure is pending for {self.typed_step or 'that step'}"
            )
            return
        target = found[0]
        self.dismiss(
            FailRequest(
                step_id=target.step,
                run_id=target.run,
                function_id=target.function,
                times=0,
                message="",
                clear=True,
            )
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
        elif event.button.id == "remove":
            self.action_remove()
        else:
            self.dismiss(None)
