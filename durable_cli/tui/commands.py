"""Every user action in one table: it makes the footer bindings and the command-palette entries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding

if TYPE_CHECKING:
    from textual.app import SystemCommand
    from textual.screen import Screen

__all__ = ["ACTIONS", "Action", "bindings", "palette_commands"]


@dataclass(frozen=True, slots=True)
class Action:
    """One action of the main screen: its key, footer label and palette text.

    Neighbours with the same `group` share one footer label ("t T Step"), so the footer fits
    80 columns; each still has its own palette entry and tooltip.
    """

    key: str
    name: str
    label: str
    title: str
    help: str
    group: str | None = None


ACTIONS: tuple[Action, ...] = (
    Action("s", "send", "Send", "Send an event", "Open the editor to send an event (JSON data)"),
    Action(
        "n",
        "next_step",
        "Next",
        "Next step",
        "Step mode: let the selected run execute exactly one more step",
    ),
    Action(
        "t",
        "step_mode_run",
        "Step run",
        "Toggle step mode for the run",
        "Pause the selected run before each step it would execute",
        "Step",
    ),
    Action(
        "T",
        "step_mode_function",
        "Step fn",
        "Toggle step mode for new runs of the function",
        "New runs of the selected function start in step mode",
        "Step",
    ),
    Action(
        "x",
        "fail_step",
        "Fail",
        "Fail a step",
        "Make the next attempt (or every attempt) of the selected step fail",
    ),
    Action(
        "r",
        "retry_now",
        "Retry",
        "Retry now",
        "Skip the backoff (or sleep) the selected run is waiting out",
    ),
    Action(
        "p",
        "replay_from_step",
        "Replay step",
        "Replay from the selected step",
        "New run of the same event (its data editable first); earlier steps are copied",
        "Replay",
    ),
    Action(
        "R",
        "rerun",
        "Rerun",
        "Rerun the whole run",
        "New run of the same event from the start (its data editable first)",
        "Replay",
    ),
    Action("c", "cancel_run", "Cancel", "Cancel the run", "Stop the selected run for good"),
    Action(
        "C",
        "continue_anyway",
        "Continue",
        "Continue with the new code",
        "After a code-change hold: go on, matching steps by id",
    ),
    Action(
        "f",
        "filter_status",
        "Filter",
        "Filter runs by status",
        "Show all runs, active ones, failed ones…",
        "Filter",
    ),
    Action(
        "a",
        "all_functions",
        "All fns",
        "Show runs of every function",
        "Clear the function filter",
        "Filter",
    ),
    Action(
        "K",
        "cancel_shown",
        "Cancel all",
        "Cancel every run the filter shows",
        "Cancel every unfinished run of the function the filter matches (after a yes)",
    ),
    Action(
        "P",
        "rerun_shown",
        "Rerun all",
        "Rerun every run the filter shows",
        "A new run of the event of every finished run the filter matches (after a yes)",
    ),
)

_GROUPS = {a.group: Binding.Group(a.group, compact=False) for a in ACTIONS if a.group}


def bindings() -> list[Binding]:
    """The main screen's footer bindings, in table order."""
    return [
        Binding(a.key, a.name, a.label, tooltip=a.help, group=_GROUPS.get(a.group)) for a in ACTIONS
    ]


def palette_commands(screen: Screen) -> Iterator[SystemCommand]:
    """Palette entries for the actions `screen` can take now (as its footer shows them)."""
    from textual.app import SystemCommand

    for action in ACTIONS:
        if screen.check_action(action.name, ()):
            yield SystemCommand(
                f"{action.title}  [{action.key}]",
                action.help,
                _runner(screen, action.name),
            )


def _runner(screen: Screen, name: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await screen.run_action(name)

    return run
