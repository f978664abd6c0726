"""Acting on every run the list's filter matches: cancel them all, or rerun them all.

With a function chosen (and a status filter, or none), `K` cancels every unfinished run the
filter matches and `P` reruns every finished one, not only the page the list has loaded. The
runs are selected in a worker through the engine's bulk selection (`engine.bulk`, shared with
`durable cancel --function` and `durable replay --function`); a confirmation says how many, and
a yes acts on exactly those, one by one through the engine's controls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.message import Message

from ...engine import ACTIVE_RUN_STATUSES, TERMINAL_RUN_STATUSES, bulk
from ..data import Journal, RunFilter
from ..reads import ReadQueue
from .confirm import ConfirmScreen

if TYPE_CHECKING:
    from textual.screen import Screen

    from ...engine import Engine
    from ..widgets.run_list import RunList

__all__ = ["BulkActions", "BulkVerb", "matched_words"]


@dataclass(frozen=True, slots=True)
class BulkVerb:
    """One action on many runs: its words and which runs it acts on.

    `verb` asks ("Cancel"), `done` reports ("Cancelled"), `warning` follows the question;
    `unfinished`: it acts on runs not finished (cancel), else on finished ones (rerun).
    """

    name: str
    verb: str
    done: str
    warning: str
    unfinished: bool

    def applies(self, flt: RunFilter) -> bool:
        """Whether this action is offered for the runs `flt` shows (a function must be chosen)."""
        if flt.function is None:
            return False
        statuses = flt.statuses
        if self.unfinished:  # every run (its unfinished ones), or only unfinished ones
            return statuses is None or set(statuses) <= ACTIVE_RUN_STATUSES
        return statuses is not None and set(statuses) <= TERMINAL_RUN_STATUSES


CANCEL = BulkVerb(
    "cancel_shown",
    "Cancel",
    "Cancelled",
    "Each stops at its next step and can't be resumed.",
    unfinished=True,
)
RERUN = BulkVerb(
    "rerun_shown",
    "Rerun",
    "Reran",
    "Each gets a new run of its event: every step runs again, side effects included.",
    unfinished=False,
)
VERBS = {v.name: v for v in (CANCEL, RERUN)}

_PAST = {"completed": "completed", "failed": "failed", "cancelled": "were cancelled"}


def matched_words(flt: RunFilter, count: int) -> str:
    """`12 runs of process-document that are waiting`: what a filter's matches are called."""
    runs = "run" if count == 1 else "runs"
    status = flt.status
    if flt.statuses is None:
        which = "that have not finished"
    elif status in _PAST:
        which = f"that {_PAST[status]}"
    else:
        which = f"that {'is' if count == 1 else 'are'} {status}"
    return f"{count} {runs} of {flt.function} {which}"


class BulkActions:
    """The actions on every run the filter matches, and when they apply."""

    class Selected(Message):
        """Read before asking: the runs an action on all shown would act on."""

        def __init__(self, verb: BulkVerb, flt: RunFilter, run_ids: list[str]) -> None:
            """Carry the action, the filter they match and their ids (oldest first)."""
            super().__init__()
            self.verb = verb
            self.filter = flt
            self.run_ids = run_ids

    def __init__(
        self,
        screen: Screen[Any],
        engine: Engine,
        journal: Journal,
        *,
        runs: RunList,
        changed: Callable[[], None],
    ) -> None:
        """Act for `screen` on `engine`, on the runs `runs`' filter matches; call `changed()`
        after acting."""
        self.screen = screen
        self.engine = engine
        self.journal = journal
        self.runs = runs
        self.changed = changed
        self._reads = ReadQueue(screen, "bulk")

    @property
    def reading(self) -> bool:
        """Whether a selection is being read."""
        return self._reads.busy

    def allowed(self, action: str) -> bool | None:
        """Whether `action` applies to the runs shown (None: not one of these actions)."""
        verb = VERBS.get(action)
        return None if verb is None else verb.applies(self.runs.filter)

    def ask(self, action: str) -> None:
        """Select the runs `action` would act on (in a worker), then ask."""
        verb, flt = VERBS[action], self.runs.filter
        if verb.applies(flt):
            read = partial(self._select, verb, flt)
            self._reads.ask(lambda: read)

    def _select(self, verb: BulkVerb, flt: RunFilter) -> Message:
        """On a worker thread."""
        return self.Selected(verb, flt, self.journal.matching(flt, unfinished=verb.unfinished))

    def selected(self, message: Selected) -> None:
        """Ask whether to act on the runs read (none: say so, ask nothing)."""
        verb, flt, run_ids = message.verb, message.filter, message.run_ids
        words = matched_words(flt, len(run_ids))
        if not run_ids:
            self.screen.notify(f"Nothing to {verb.verb.lower()}: {words}.", timeout=3)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._act(verb, run_ids)

        self.screen.app.push_screen(
            ConfirmScreen(
                f"{verb.verb} {len(run_ids)}", f"{verb.verb} {words}?\n{verb.warning}", verb.verb
            ),
            answered,
        )

    def _act(self, verb: BulkVerb, run_ids: list[str]) -> None:
        # on the loop, run by run: the engine's controls tell the scheduler (a run in flight
        # stops at its next step, a new run is queued), which only its own loop may touch
        store = self.engine.store
        result: bulk.Bulk
        if verb is CANCEL:
            result = bulk.cancel_runs(store, run_ids, cancel=self.engine.cancel)
        else:
            result = bulk.replay_runs(store, run_ids, replay=self.engine.replay)
        done = len(result.done)
        said = f"{verb.done} {done} run{'' if done == 1 else 's'}"
        if result.skipped:
            said += f"; {len(result.skipped)} skipped ({result.skipped[0][1]})"
        self.screen.notify(said, severity="warning" if result.skipped else "information")
        self.runs.update_runs([run.id for _, run in result.done])
        self.changed()
