"""The main screen: functions and runs on the left, the selected run on the right.

It keeps the panes in step with the engine's changes and owns the selection; what the keys do
is `RunActions` (`actions.py`), which the screen owns and calls. The panes read the journal in
workers and apply what comes back; the screen reacts to those messages as they bubble up.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer

from ...engine import ACTIVE_RUN_STATUSES, Change, Engine, PendingFailure
from ..commands import bindings
from ..data import Journal, RunFilter
from ..reads import ReadQueue
from ..widgets.functions_list import FunctionsList
from ..widgets.run_detail import RunDetail
from ..widgets.run_list import RunList
from ..widgets.status_bar import StatusBar
from ..widgets.step_timeline import StepTimeline
from .actions import RunActions
from .bulk import BulkActions

__all__ = ["MainScreen"]

_RUN_KINDS = ("run", "step", "code_changed", "error")
# a row in the runs list shows the run's own fields, which only these change (a step's change
# leaves them as they were: re-reading its run was most of what a busy batch of changes cost)
_ROW_KINDS = ("run", "code_changed")


class MainScreen(Screen[None]):
    """Functions · runs · run detail, plus the status line and footer."""

    BINDINGS = bindings()

    class ActiveRead(Message):
        """The runs not finished yet, read once the screen is up."""

        def __init__(self, run_ids: set[str]) -> None:
            """Carry their ids."""
            super().__init__()
            self.run_ids = run_ids

    class FailuresRead(Message):
        """The pending injected failures, read once a second."""

        def __init__(self, pending: list[PendingFailure]) -> None:
            """Carry them."""
            super().__init__()
            self.pending = pending

    def __init__(self, engine: Engine, *, watching: bool = False) -> None:
        """Drive `engine` (already serving on this loop, or about to)."""
        super().__init__()
        self.engine = engine
        self.journal = Journal(engine)
        now = engine.clock.now_ms
        self.functions = FunctionsList(self.journal, id="functions")
        self.runs = RunList(self.journal, now, id="runs")
        self.detail = RunDetail(self.journal, now, id="detail")
        self.status = StatusBar(id="status")
        self.status.watching = watching
        self.footer = Footer(compact=True)
        self.actions = RunActions(
            self,
            engine,
            self.journal,
            functions=self.functions,
            runs=self.runs,
            detail=self.detail,
            changed=self._update_bindings,
        )
        self.bulk = BulkActions(
            self, engine, self.journal, runs=self.runs, changed=self._update_bindings
        )
        self._binding_state: tuple[Any, ...] = ()
        self._active: set[str] = set()
        self._ended: set[str] | None = set()  # runs seen to end before the first read of them
        self._reads = ReadQueue(self, "screen")

    def compose(self) -> ComposeResult:
        """Left column (functions over runs), run detail, status line, footer."""
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield self.functions
                yield self.runs
            yield self.detail
        yield self.status
        yield self.footer

    def on_mount(self) -> None:
        self.functions.border_title = "Functions"
        self.detail.border_title = "Run"
        self.functions.reload()
        self.runs.reload()
        self._reads.ask(lambda: self._read_active)
        self.status.loaded(list(self.engine.registry.files), len(self.engine.registry))
        self.runs.focus()
        self.set_interval(1.0, self._tick)

    @property
    def reading(self) -> bool:
        """Whether any read of the journal is under way or waiting (tests wait for none)."""
        return (
            self._reads.busy
            or self.actions.reading
            or self.bulk.reading
            or self.functions.reading
            or self.runs.reading
            or self.detail.reading
        )

    def _read_active(self) -> Message:
        """On a worker thread."""
        return self.ActiveRead(self.journal.active())

    def on_main_screen_active_read(self, message: MainScreen.ActiveRead) -> None:
        # changes that came in meanwhile are newer than the read: a run they saw end stays out
        self._active |= message.run_ids - (self._ended or set())
        self._ended = None
        self._show_active()

    def _show_active(self) -> None:
        if self.status.active != len(self._active):
            self.status.active = len(self._active)
            self.status.redraw()

    # -- keeping up with the engine ---------------------------------------------------------
    def apply_changes(self, changes: list[Change]) -> None:
        """Bring the panes up to date with a batch of engine changes."""
        run_ids: list[str] = []  # runs whose row may look different: a run-level change
        touched: set[str] = set()  # runs with any change (a step's too): the detail pane's
        new_runs = False
        for change in changes:
            if change.kind in _RUN_KINDS and change.run_id:
                touched.add(change.run_id)
                if change.kind in _ROW_KINDS:
                    run_ids.append(change.run_id)
                if change.kind == "run" and change.status:
                    new_runs |= self._note_status(change.run_id, change.status)
            elif change.kind == "reload":
                files = list(change.detail.get("files", ()))
                self.status.reloaded(
                    change.at, change.duration_ms, files, len(self.engine.registry)
                )
                self.functions.reload()
            elif change.kind == "load_error":
                self.status.failed(change.detail, change.error)
            elif change.kind == "workers":  # on a shared database (cli/_others.py)
                self.status.workers_changed(change.detail)
        self._show_active()
        if not touched:
            return
        if run_ids:
            self.runs.update_runs(run_ids)
        if new_runs:
            self.functions.reload()
        if self.detail.wanted in touched:
            self.detail.refresh_run()
        self._update_bindings()

    def _note_status(self, run_id: str, status: str) -> bool:
        """Keep count of the active runs; True for a run not active before."""
        if status in ACTIVE_RUN_STATUSES:
            new = run_id not in self._active
            self._active.add(run_id)
            return new
        self._active.discard(run_id)
        if self._ended is not None:
            self._ended.add(run_id)
        return False

    def _tick(self) -> None:
        """Durations of runs still going tick once a second."""
        if self.runs.has_active():
            self.runs.refresh()
        detail = self.detail.detail
        if detail and detail["status"] in ACTIVE_RUN_STATUSES:
            self.detail.header.show(detail)
            self.detail.timeline.refresh()
        # injected failures change with no run changing (`durable fail` elsewhere, one used up)
        self._reads.ask(lambda: self._read_failures, "failures")

    def _read_failures(self) -> Message:
        """On a worker thread."""
        return self.FailuresRead(self.journal.pending_failures())

    def on_main_screen_failures_read(self, message: MainScreen.FailuresRead) -> None:
        if self.functions.failures_changed(message.pending):
            self.functions.reload()
            self.detail.refresh_run()

    def on_resize(self) -> None:
        # the palette hint is the first thing to go when 80 columns must hold every key
        show = self.size.width >= 100
        if self.footer.show_command_palette != show:
            self.footer.show_command_palette = show
            self.footer.refresh(recompose=True)  # the footer redraws its keys only when asked

    def _update_bindings(self) -> None:
        """Refresh the footer only when what the actions depend on has changed."""
        # the footer rebuilds its widgets on every refresh: skip it while nothing it shows differs
        run, step = self.detail.detail, self.detail.selected_step
        state = (
            None if run is None else (run["status"], run["step_mode"], run["reason"]),
            None if step is None else step["status"],
            self.runs.filter,
            self.actions.function() is None,
        )
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    # -- what the panes read, as it comes back ------------------------------------------------
    def on_run_list_loaded(self, message: RunList.Loaded) -> None:
        selected = self.runs.selected.id if self.runs.selected else None
        if message.before is None and selected != self.detail.wanted:  # a new list: its run
            self.detail.show_run(selected)
        self._update_bindings()

    def on_run_list_updated(self, message: RunList.Updated) -> None:
        self.actions.follow_new_run()
        if self.detail.wanted is None and self.runs.selected:
            self.detail.show_run(self.runs.selected.id)
        self._update_bindings()

    def on_run_detail_loaded(self, message: RunDetail.Loaded) -> None:
        self._update_bindings()

    def on_run_actions_send_checked(self, message: RunActions.SendChecked) -> None:
        self.actions.send_checked(message)

    def on_run_actions_failures_read(self, message: RunActions.FailuresRead) -> None:
        self.actions.failures_read(message)

    def on_bulk_actions_selected(self, message: BulkActions.Selected) -> None:
        self.bulk.selected(message)

    # -- selection --------------------------------------------------------------------------
    def on_run_list_highlighted(self, message: RunList.Highlighted) -> None:
        if message.run_id != self.detail.wanted:
            self.detail.show_run(message.run_id)
        self._update_bindings()

    def on_step_timeline_highlighted(self, message: StepTimeline.Highlighted) -> None:
        self._update_bindings()

    def on_functions_list_chosen(self, message: FunctionsList.Chosen) -> None:
        self.runs.reload(RunFilter(message.function_id, self.runs.asked_filter.status))

    @property
    def run(self) -> dict[str, Any] | None:
        """The selected run as `run_detail` gives it (None while it is being read)."""
        return self.actions.run

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what applies to the selection (the footer and palette follow this)."""
        allowed = self.bulk.allowed(action)
        return self.actions.allowed(action) if allowed is None else allowed

    # -- the keys (see `commands.ACTIONS`): each is one of `RunActions` ------------------------
    def action_send(self) -> None:
        """Open the send-event editor."""
        self.actions.send()

    def action_next_step(self) -> None:
        """Let the selected run execute exactly one more step."""
        self.actions.next_step()

    def action_step_mode_run(self) -> None:
        """Toggle step mode for the selected run."""
        self.actions.step_mode_run()

    def action_step_mode_function(self) -> None:
        """Toggle step mode for new runs of the selected function."""
        self.actions.step_mode_function()

    def action_fail_step(self) -> None:
        """Ask which attempts of which step should fail."""
        self.actions.fail_step()

    def action_retry_now(self) -> None:
        """Skip the wait the selected run is in."""
        self.actions.retry_now()

    def action_replay_from_step(self) -> None:
        """New run of the same event from the selected step (its data editable first)."""
        self.actions.replay_from_step()

    def action_rerun(self) -> None:
        """New run of the same event, from the start (its data editable first)."""
        self.actions.rerun()

    def action_cancel_run(self) -> None:
        """Cancel the selected run (after a yes)."""
        self.actions.cancel_run()

    def action_continue_anyway(self) -> None:
        """Go on after a code-change hold."""
        self.actions.continue_anyway()

    def action_filter_status(self) -> None:
        """Pick the status filter."""
        self.actions.filter_status()

    def action_all_functions(self) -> None:
        """Clear the function filter."""
        self.actions.all_functions()

    def action_cancel_shown(self) -> None:
        """Cancel every unfinished run the filter matches (after a yes that says how many)."""
        self.bulk.ask("cancel_shown")

    def action_rerun_shown(self) -> None:
        """Rerun every finished run the filter matches (after a yes that says how many)."""
        self.bulk.ask("rerun_shown")
