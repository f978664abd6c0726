"""The main screen: functions and runs on the left, the selected run on the right.

It keeps the panes in step with the engine's changes and owns the selection; what the keys do
lives in `actions.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer

from ...engine import Change, Engine
from ...store import ACTIVE_RUN_STATUSES
from ..commands import bindings
from ..data import RunFilter, function_infos
from ..widgets.functions_list import FunctionsList
from ..widgets.run_detail import RunDetail
from ..widgets.run_list import RunList
from ..widgets.status_bar import StatusBar
from ..widgets.step_timeline import StepTimeline
from .actions import RunActions

__all__ = ["MainScreen"]

_RUN_KINDS = ("run", "step", "code_changed", "error")
# a row in the runs list shows the run's own fields, which only these change (a step's change
# leaves them as they were: re-reading its run was most of what a busy batch of changes cost)
_ROW_KINDS = ("run", "code_changed")


class MainScreen(RunActions, Screen[None]):
    """Functions · runs · run detail, plus the status line and footer."""

    BINDINGS = bindings()

    def __init__(self, engine: Engine, *, watching: bool = False) -> None:
        """Drive `engine` (already serving on this loop, or about to)."""
        super().__init__()
        self.engine = engine
        now = engine.clock.now_ms
        self.functions = FunctionsList(id="functions")
        self.runs = RunList(engine.store, now, id="runs")
        self.detail = RunDetail(engine.store, now, id="detail")
        self.status = StatusBar(id="status")
        self.status.watching = watching
        self.footer = Footer(compact=True)
        self._binding_state: tuple[Any, ...] = ()
        self.sent: dict[str, str] = {}  # event name -> id of the last one sent from here
        self._last_name: str | None = None
        self._await_event: str | None = None
        self._await_run: str | None = None
        self._active: set[str] = set()

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
        self._refresh_functions()
        self.runs.reload()
        self._retitle_runs()
        self._active = {  # one status at a time: each is an index range, not a scan of all runs
            run.id
            for status in ACTIVE_RUN_STATUSES
            for run in self.engine.store.list_runs(status=status)
        }
        self.status.active = len(self._active)
        self.status.loaded(list(self.engine.registry.files), len(self.engine.registry))
        if not self.runs.runs:
            self.detail.show_run(None)
        self.runs.focus()
        self.set_interval(1.0, self._tick)

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
                    if change.status in ACTIVE_RUN_STATUSES:
                        new_runs |= change.run_id not in self._active
                        self._active.add(change.run_id)
                    else:
                        self._active.discard(change.run_id)
            elif change.kind == "reload":
                files = list(change.detail.get("files", ()))
                self.status.reloaded(
                    change.at, change.duration_ms, files, len(self.engine.registry)
                )
                self._refresh_functions()
            elif change.kind == "load_error":
                self.status.failed(change.detail, change.error)
        if self.status.active != len(self._active):
            self.status.active = len(self._active)
            self.status.redraw()
        if not touched:
            return
        if run_ids:
            self.runs.update_runs(run_ids)
        if new_runs:
            self._refresh_functions()
            self._follow_new_run()
        if self.detail.run_id in touched:
            self.detail.refresh_run()
        elif self.detail.run_id is None and self.runs.selected:
            self.detail.show_run(self.runs.selected.id)
        self._retitle_runs()
        self._update_bindings()

    def _follow_new_run(self) -> None:
        """Select the run of an event just sent, or of a replay just asked for."""
        if self._await_run and self.runs.select_run(self._await_run):
            self._await_run = None
            return
        if self._await_event:
            for run in self.runs.runs[:50]:
                if run.event.get("id") == self._await_event:
                    self._await_event = None
                    self.runs.select_run(run.id)
                    return

    def _tick(self) -> None:
        """Durations of runs still going tick once a second."""
        if self.runs.has_active():
            self.runs.refresh()
        detail = self.detail.detail
        if detail and detail["status"] in ACTIVE_RUN_STATUSES:
            self.detail.header.show(detail)
            self.detail.timeline.refresh()
        # injected failures change with no run changing (`durable fail` elsewhere, one used up)
        if self.functions.failures_changed(self.engine.pending_failures()):
            self._refresh_functions()
            self.detail.refresh_run()

    def _refresh_functions(self) -> None:
        self.functions.show(function_infos(self.engine))

    def _retitle_runs(self) -> None:
        more = "+" if self.runs.more else ""
        count = len(self.runs.runs)
        title = f"Runs · {self.runs.filter.label()}"
        subtitle = f"{count}{more} run{'s' if count != 1 or more else ''}"
        # setting either redraws the whole list, even to the same text: only when it changes
        if (self.runs.border_title, self.runs.border_subtitle) != (title, subtitle):
            self.runs.border_title, self.runs.border_subtitle = title, subtitle

    def on_resize(self) -> None:
        # the palette hint is the first thing to go when 80 columns must hold every key
        show = self.size.width >= 100
        if self.footer.show_command_palette != show:
            self.footer.show_command_palette = show
            self.footer.refresh(recompose=True)  # the footer redraws its keys only when asked

    def _update_bindings(self) -> None:
        """Refresh the footer only when what the actions depend on has changed."""
        # the footer rebuilds its widgets on every refresh: skip it while nothing it shows differs
        run, step = self.run, self.detail.selected_step
        state = (
            None if run is None else (run["status"], run["step_mode"], run["reason"]),
            None if step is None else step["status"],
            self.runs.filter.function,
            self._function() is None,
        )
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    # -- selection --------------------------------------------------------------------------
    def on_run_list_highlighted(self, message: RunList.Highlighted) -> None:
        if message.run_id != self.detail.run_id:
            self.detail.show_run(message.run_id)
        self._update_bindings()

    def on_step_timeline_highlighted(self, message: StepTimeline.Highlighted) -> None:
        self._update_bindings()

    def on_functions_list_chosen(self, message: FunctionsList.Chosen) -> None:
        self._set_filter(RunFilter(message.function_id, self.runs.filter.status))

    def _set_filter(self, flt: RunFilter) -> None:
        self.runs.reload(flt)
        self._retitle_runs()
        selected = self.runs.selected
        self.detail.show_run(selected.id if selected else None)
        self._update_bindings()

    @property
    def run(self) -> dict[str, Any] | None:
        """The selected run as `run_detail` gives it (fresh after every change)."""
        return self.detail.detail

    def _function(self) -> str | None:
        """The function an action about "the function" means."""
        if self.functions.has_focus and self.functions.highlighted_function:
            return self.functions.highlighted_function
        if self.runs.filter.function:
            return self.runs.filter.function
        run = self.run
        return run["function"] if run else self.functions.highlighted_function

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what applies to the selection (the footer and palette follow this)."""
        run = self.run
        live = run is not None and run["status"] in ACTIVE_RUN_STATUSES
        step = self.detail.selected_step
        reason = (run or {}).get("reason") or ""
        rules: dict[str, Callable[[], bool]] = {
            "next_step": lambda: (
                live and bool(run and (run["step_mode"] or run["status"] == "paused"))
            ),
            "step_mode_run": lambda: live,
            "step_mode_function": lambda: self._function() is not None,
            "fail_step": lambda: run is not None or self._function() is not None,
            "retry_now": lambda: bool(run) and run["status"] in ("retrying", "sleeping"),
            "replay_from_step": lambda: step is not None,
            "rerun": lambda: run is not None,
            "cancel_run": lambda: live,
            "continue_anyway": lambda: live and reason.startswith("code changed"),
            "all_functions": lambda: self.runs.filter.function is not None,
        }
        rule = rules.get(action)
        return True if rule is None else rule()
