"""What the main screen's keys do: read the selection, call the engine's control API, report.

`MainScreen` owns one `RunActions`, made with the panes it reads, and calls one of its methods
per key. What an action must read of the journal first (whether a run waits for an event, the
pending failures) is read in a worker on the screen; the result comes back to the screen as
one of this class's messages, which the screen hands back to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.message import Message

from ...engine import ACTIVE_RUN_STATUSES, TIMER_STATUSES
from ...errors import InputError
from ..data import Journal, RunFilter, open_waits, with_match
from ..format import SETTLED_STEP_STATUSES, short_id
from ..reads import ReadQueue
from .confirm import ConfirmScreen
from .fail_step import FailRequest, FailStepScreen
from .replay_data import ReplayDataScreen, ReplayRequest
from .send_event import SendEventScreen, SendRequest
from .status_filter import StatusFilterScreen

if TYPE_CHECKING:
    from textual.screen import Screen

    from ...engine import Engine, PendingFailure, RunRecord
    from ..widgets.functions_list import FunctionsList
    from ..widgets.run_detail import RunDetail
    from ..widgets.run_list import RunList

__all__ = ["RunActions"]


class RunActions:
    """The actions behind the footer keys and the palette entries, and which of them apply."""

    class SendChecked(Message):
        """Read before sending: whether a run waits for an event of that name."""

        def __init__(self, request: SendRequest, awaited: bool) -> None:
            """Carry the event to send and the answer."""
            super().__init__()
            self.request = request
            self.awaited = awaited

    class FailuresRead(Message):
        """Read before the fail dialog opens: the injected failures it may remove."""

        def __init__(
            self, opening: Callable[..., FailStepScreen], pending: list[PendingFailure]
        ) -> None:
            """Carry the dialog to open (given `pending=`) and the failures."""
            super().__init__()
            self.opening = opening
            self.pending = pending

    def __init__(
        self,
        screen: Screen[Any],
        engine: Engine,
        journal: Journal,
        *,
        functions: FunctionsList,
        runs: RunList,
        detail: RunDetail,
        changed: Callable[[], None],
    ) -> None:
        """Act for `screen` on `engine`; read the selection from the three panes; call
        `changed()` after an action, for the screen to offer what applies now."""
        self.screen = screen
        self.engine = engine
        self.journal = journal
        self.functions = functions
        self.runs = runs
        self.detail = detail
        self.changed = changed
        self.sent: dict[str, str] = {}  # event name -> id of the last one sent from here
        self.last_name: str | None = None
        self.awaited_event: str | None = None  # select the run of this event when it shows
        self.awaited_run: str | None = None  # select this run when it shows
        self._reads = ReadQueue(screen, "actions")

    @property
    def reading(self) -> bool:
        """Whether a read of the journal is under way or waiting."""
        return self._reads.busy

    # -- the selection ----------------------------------------------------------------------
    @property
    def run(self) -> dict[str, Any] | None:
        """The selected run as `run_detail` gives it (fresh after every change); None while
        the pane still shows another: no key acts on a run other than the one selected."""
        detail = self.detail
        return detail.detail if detail.run_id == detail.wanted else None

    def function(self) -> str | None:
        """The function an action about "the function" means."""
        if self.functions.has_focus and self.functions.highlighted_function:
            return self.functions.highlighted_function
        if self.runs.filter.function:
            return self.runs.filter.function
        run = self.detail.detail  # the run shown, even while the next is read: no flicker
        return run["function"] if run else self.functions.highlighted_function

    def allowed(self, action: str) -> bool:
        """Whether `action` applies to the selection (the footer and palette follow this)."""
        run = self.run
        live = run is not None and run["status"] in ACTIVE_RUN_STATUSES
        step = self.detail.selected_step if run is not None else None
        reason = (run or {}).get("reason") or ""
        rules: dict[str, Callable[[], bool]] = {
            "next_step": lambda: (
                live and bool(run and (run["step_mode"] or run["status"] == "paused"))
            ),
            "step_mode_run": lambda: live,
            "step_mode_function": lambda: self.function() is not None,
            "fail_step": lambda: run is not None or self.function() is not None,
            # a wait for an event has no timer to skip: `s` sends the event instead
            "retry_now": lambda: bool(run) and run["status"] in TIMER_STATUSES - {"waiting"},
            "replay_from_step": lambda: step is not None,
            "rerun": lambda: run is not None,
            "cancel_run": lambda: live,
            "continue_anyway": lambda: live and reason.startswith("code changed"),
            "all_functions": lambda: self.runs.filter.function is not None,
        }
        rule = rules.get(action)
        return True if rule is None else rule()

    def follow_new_run(self) -> None:
        """Select the run of an event just sent, or of a replay just asked for, once listed."""
        if self.awaited_run and self.runs.select_run(self.awaited_run):
            self.awaited_run = None
            return
        if self.awaited_event:
            for run in self.runs.runs[:50]:
                if run.event.get("id") == self.awaited_event:
                    self.awaited_event = None
                    self.runs.select_run(run.id)
                    return

    # -- doing ------------------------------------------------------------------------------
    def _do(
        self,
        what: Callable[[], Any],
        done: str | Callable[[Any], str] | None = None,
        refresh: Iterable[str] = (),
    ) -> Any:
        """Call the engine; show its one-line reason if it refuses; re-read what changed.

        `done` is said (briefly) only where the panes would not show the outcome by themselves.
        """
        try:
            result = what()
        except InputError as exc:
            self.screen.notify(str(exc), title="Not done", severity="error")
            return None
        if done is not None:
            self.screen.notify(done(result) if callable(done) else done, timeout=2.5)
        ids = [i for i in refresh if i]
        if ids:
            self.runs.update_runs(ids)
            if self.detail.wanted in ids:
                self.detail.refresh_run()
        self.changed()
        return result

    def send(self) -> None:
        """Open the send-event editor."""
        triggers = sorted({t for fn in self.engine.registry for t in fn.triggers})
        fn = self.engine.registry.get(self.function() or "")
        # a run waiting for an event: offer that event, with the field it matches on filled in
        waits = open_waits(self.run) if not self.functions.has_focus else []
        wait = waits[0] if waits else None
        name = (
            (wait["meta"]["event"] if wait else None)
            or (fn.triggers[0] if fn and fn.triggers else None)
            or self.last_name
            or (triggers[0] if triggers else "")
        )
        sent = list(self.sent.values())  # read on the dialog's thread: a copy of the ids
        journal = self.journal

        def last(event_name: str) -> dict[str, Any] | None:
            data = journal.last_event_data(event_name, sent)
            if wait is not None and event_name == wait["meta"]["event"]:
                return with_match(data, wait)
            return data

        self.screen.app.push_screen(SendEventScreen(triggers, name, last), self._send)

    def _send(self, request: SendRequest | None) -> None:
        if request is None:
            return
        # asked before sending: the runner may end the waits it meets at once
        check = partial(self._check_send, request)
        self._reads.ask(lambda: check)

    def _check_send(self, request: SendRequest) -> Message:
        """On a worker thread."""
        return self.SendChecked(request, self.journal.awaited(request.name))

    def send_checked(self, message: SendChecked) -> None:
        """Send the event the dialog returned, now that it is known whether a run awaits it."""
        request = message.request
        event_id = self._do(
            lambda: self.engine.send(request.name, request.data),
            lambda eid: f"Sent {request.name}",
        )
        if event_id is None:
            return
        self.sent[request.name] = event_id
        self.last_name = request.name
        self.awaited_event = event_id
        if not self.engine.registry.for_event(request.name) and not message.awaited:
            self.screen.notify(
                f"No loaded function is triggered by {request.name}, and no run waits for it.",
                severity="warning",
            )

    def next_step(self) -> None:
        """Let the selected run execute exactly one more step."""
        run = self.run
        if run:
            self._do(lambda: self.engine.next_step(run["id"]), None, [run["id"]])

    def step_mode_run(self) -> None:
        """Toggle step mode for the selected run."""
        run = self.run
        if not run:
            return
        on = not run["step_mode"]
        self._do(
            lambda: self.engine.set_step_mode(run_id=run["id"], on=on),
            None,
            [run["id"]],
        )

    def step_mode_function(self) -> None:
        """Toggle step mode for new runs of the selected function (as its row shows it)."""
        fn = self.function()
        if fn is None:
            return
        on = not self.functions.step_mode(fn)
        self._do(
            lambda: self.engine.set_step_mode(function_id=fn, on=on),
            f"Step mode {'on' if on else 'off'} for new runs of {fn}",
        )
        self.functions.reload()

    def fail_step(self) -> None:
        """Ask which attempts of which step should fail (once the pending ones are read)."""
        run = self.run
        fn = run["function"] if run else self.function()
        if fn is None:
            return
        step = self.detail.selected_step if run else None
        steps = run["steps"] if run else []
        step_id = step["id"] if step else ""  # any status: a finished one fails in new runs
        if not step_id and run:  # the step it is about to run, if the timeline shows one
            pending = [s["id"] for s in run["steps"] if s["status"] in ("paused", "retrying")]
            step_id = pending[0] if pending else ""
        run_id = run["id"] if run else None
        opening = partial(
            FailStepScreen,
            step_id,
            [s["id"] for s in steps],
            run_id,
            fn,
            run_live=run is not None and run["status"] in ACTIVE_RUN_STATUSES,
            # a step this run has settled can fail only in new runs
            finished=[s["id"] for s in steps if s["status"] in SETTLED_STEP_STATUSES],
        )
        read = partial(self._read_failures, opening, run_id, None if run else fn)
        self._reads.ask(lambda: read)

    def _read_failures(
        self, opening: Callable[..., FailStepScreen], run_id: str | None, function_id: str | None
    ) -> Message:
        """On a worker thread."""
        pending = self.journal.pending_failures(run_id=run_id, function_id=function_id)
        return self.FailuresRead(opening, pending)

    def failures_read(self, message: FailuresRead) -> None:
        """Open the fail dialog with the failures it may remove."""
        self.screen.app.push_screen(message.opening(pending=message.pending), self._fail)

    def _fail(self, request: FailRequest | None) -> None:
        if request is None:
            return
        which = "every attempt" if request.times < 0 else "the next attempt"
        scope = f"run {short_id(request.run_id)}" if request.run_id else request.function_id
        where = {"run_id": request.run_id, "function_id": request.function_id}
        if request.clear:
            self._do(
                lambda: self.engine.clear_failure(request.step_id, **where),
                f"Removed the pending failure of {request.step_id} ({scope})",
                [self.detail.run_id or ""],
            )
        else:
            self._do(
                lambda: self.engine.inject_failure(
                    request.step_id, times=request.times, message=request.message, **where
                ),
                f"{which.capitalize()} of {request.step_id} ({scope}) will fail",
                [self.detail.run_id or ""],
            )
        self.functions.reload()

    def retry_now(self) -> None:
        """Skip the wait the selected run is in."""
        run = self.run
        if run:
            self._do(lambda: self.engine.retry_now(run["id"]), None, [run["id"]])

    def replay_from_step(self) -> None:
        """New run of the same event from the selected step (earlier steps copied), with the
        event's data as it was or edited first."""
        run, step = self.run, self.detail.selected_step
        if run and step:
            self._replay(run, step["id"])

    def rerun(self) -> None:
        """New run of the same event from the start (every step runs again), with the event's
        data as it was or edited first."""
        run = self.run
        if run:
            self._replay(run, None)

    def _replay(self, run: dict[str, Any], from_step: str | None) -> None:
        run_id, event = run["id"], run["event"]
        about = f"{run['function']} with the event of run {short_id(run_id)}"
        if from_step is None:
            title, verb = "Rerun", "Rerun"
            question = f"Rerun {about}?\nEvery step runs again, side effects included."
        else:
            title, verb = f"Replay from {from_step}", "Replay"
            question = (
                f"Replay {about} from step {from_step}?\n"
                "The steps before it are copied, not run again."
            )

        def answered(request: ReplayRequest | None) -> None:
            if request is not None:
                replay = partial(self.engine.replay, run_id, from_step, data=request.data)
                self._select_soon(self._do(replay))

        self.screen.app.push_screen(ReplayDataScreen(title, question, event, verb), answered)

    def _select_soon(self, new: RunRecord | None) -> None:
        if new is None:
            return
        self.awaited_run = new.id
        self.runs.update_runs([new.id])

    def cancel_run(self) -> None:
        """Cancel the selected run (after a yes)."""
        run = self.run
        if not run:
            return
        run_id = run["id"]

        def answered(yes: bool | None) -> None:
            if yes:
                self._do(lambda: self.engine.cancel(run_id), None, [run_id])

        self.screen.app.push_screen(
            ConfirmScreen(
                "Cancel run",
                f"Cancel run {run_id} of {run['function']}?\n"
                "It stops at its next step and can't be resumed.",
                "Cancel run",
            ),
            answered,
        )

    def continue_anyway(self) -> None:
        """Go on after a code-change hold."""
        run = self.run
        if run:
            self._do(lambda: self.engine.continue_anyway(run["id"]), None, [run["id"]])

    def filter_status(self) -> None:
        """Pick the status filter."""

        def chosen(name: str | None) -> None:
            if name is not None:
                self.runs.reload(RunFilter(self.runs.asked_filter.function, name))

        self.screen.app.push_screen(StatusFilterScreen(self.runs.asked_filter.status), chosen)

    def all_functions(self) -> None:
        """Clear the function filter."""
        self.runs.reload(RunFilter(None, self.runs.asked_filter.status))
        self.functions.highlighted = 0
