"""Fail a step on purpose: the next attempt or every attempt, for this run or a function's runs;
or remove a failure injected before that has not happened yet."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from ...engine import PendingFailure

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


class ScopeOption(RadioButton):
    """A radio button whose mark differs in shape, not only in colour: (●) chosen, ( ) not."""

    BUTTON_LEFT = "("
    BUTTON_RIGHT = ")"

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]  # Textual reads it to draw the mark
        """The glyph inside the mark: the base class draws one glyph for both states."""
        return "●" if self.value else " "


class FailStepScreen(ModalScreen[FailRequest | None]):
    """Returns the failure to inject, or None."""

    # four buttons fit an 80-column terminal only without Button's default minimum width
    DEFAULT_CSS = """
    #fail-dialog .buttons Button {
        min-width: 0;
    }
    """

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
        finished: Collection[str] = (),
    ) -> None:
        """Prefill `step_id`; offer this run's scope only while `run_live`, and not for the
        steps it has `finished` (completed or failed); `pending`: the injected failures not
        used up yet that can hit this run or function (removable here)."""
        super().__init__()
        self.step_id = step_id
        self.known_steps = known_steps
        self.run_id = run_id
        self.function_id = function_id
        self.run_live = run_live and run_id is not None
        self.pending = list(pending)
        self.finished = frozenset(finished)
        self._removable = False  # whether the typed step has a pending failure to remove
        self._scope_forced = False  # "this run" was unchosen because the typed step is done

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
            here = self._run_open(self.step_id)
            with RadioSet(id="fail-scope"):
                yield ScopeOption("this run", value=here, disabled=not here, id="scope-run")
                yield ScopeOption(
                    f"every run of {self.function_id}", value=not here, id="scope-function"
                )
            yield Static("", id="fail-pending", classes="hint")
            yield Label("Message (optional)")
            yield Input(placeholder="injected failure", id="fail-message", compact=True)
            yield Static("", id="fail-error", classes="error-line")
            with Horizontal(classes="buttons"):
                yield Button("Cancel esc", id="cancel", compact=True)
                yield Button("Remove ^r", id="remove", compact=True)
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

    def _run_open(self, step_id: str) -> bool:
        """Whether this run can still take a failure of `step_id`."""
        return self.run_live and step_id not in self.finished

    @on(Input.Changed, "#fail-step")
    def _sync_scope(self) -> None:
        """A step this run has finished can only fail in new runs: choose that scope for it."""
        this_run = self.query_one("#scope-run", RadioButton)
        every_run = self.query_one("#scope-function", RadioButton)
        if self._run_open(self.typed_step):
            this_run.disabled = False
            if self._scope_forced:  # give back the choice taken away for a finished step
                this_run.value, self._scope_forced = True, False
        elif self.run_live:
            if this_run.value:
                every_run.value, self._scope_forced = True, True
            this_run.disabled = True

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
        if self.run_live and self.typed_step in self.finished:
            lines.insert(
                0,
                f"{self.typed_step} has finished in this run:"
                f" only new runs of {self.function_id} can fail it",
            )
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
