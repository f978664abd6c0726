"""What the main screen's keys do: read the selection, call one engine method, report.

A mixin of `MainScreen` (which owns the panes and the selection these methods read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from ...store import ACTIVE_RUN_STATUSES
from ..data import RunFilter, last_event_data, open_waits, with_match
from ..format import short_id
from .confirm import ConfirmScreen
from .fail_step import FailRequest, FailStepScreen
from .send_event import SendEventScreen, SendRequest
from .status_filter import StatusFilterScreen

if TYPE_CHECKING:
    from .main import MainScreen

__all__ = ["RunActions"]


class RunActions:
    """The `action_*` methods behind the footer keys and the palette entries."""

    def _do(
        self: MainScreen,
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
            self.notify(str(exc), title="Not done", severity="error")
            return None
        if done is not None:
            self.notify(done(result) if callable(done) else done, timeout=2.5)
        ids = [i for i in refresh if i]
        if ids:
            self.runs.update_runs(ids)
            if self.detail.run_id in ids:
                self.detail.refresh_run()
        self._update_bindings()
        return result

    def action_send(self: MainScreen) -> None:
        """Open the send-event editor."""
        triggers = sorted({t for fn in self.engine.registry for t in fn.triggers})
        fn = self.engine.registry.get(self._function() or "")
        # a run waiting for an event: offer that event, with the field it matches on filled in
        waits = open_waits(self.run) if not self.functions.has_focus else []
        wait = waits[0] if waits else None
        name = (
            (wait["meta"]["event"] if wait else None)
            or (fn.triggers[0] if fn and fn.triggers else None)
            or self._last_name
            or (triggers[0] if triggers else "")
        )

        sent = list(self.sent.values())  # read on the dialog's thread: a copy of the ids

        def last(event_name: str) -> dict[str, Any] | None:
            data = last_event_data(self.engine, event_name, sent)
            if wait is not None and event_name == wait["meta"]["event"]:
                return with_match(data, wait)
            return data

        self.app.push_screen(SendEventScreen(triggers, name, last), self._send)

    def _send(self: MainScreen, request: SendRequest | None) -> None:
        if request is None:
            return
        # asked before sending: the runner may end the waits it meets at once
        awaited = self.engine.store.has_flags(f"wait/{request.name}/")
        event_id = self._do(
            lambda: self.engine.send(request.name, request.data),
            lambda eid: f"Sent {request.name}",
        )
        if event_id is None:
            return
        self.sent[request.name] = event_id
        self._last_name = request.name
        self._await_event = event_id
        if not self.engine.registry.for_event(request.name) and not awaited:
            self.notify(
                f"No loaded function is triggered by {request.name}, and no run waits for it.",
                severity="warning",
            )

    def action_next_step(self: MainScreen) -> None:
        """Let the selected run execute exactly one more step."""
        run = self.run
        if run:
            self._do(lambda: self.engine.next_step(run["id"]), None, [run["id"]])

    def action_step_mode_run(self: MainScreen) -> None:
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

    def action_step_mode_function(self: MainScreen) -> None:
        """Toggle step mode for new runs of the selected function."""
        fn = self._function()
        if fn is None:
            return
        on = not self.engine.store.get_flag(f"stepmode/{fn}")
        self._do(
            lambda: self.engine.set_step_mode(function_id=fn, on=on),
            f"Step mode {'on' if on else 'off'} for new runs of {fn}",
        )
        self._refresh_functions()

    def action_fail_step(self: MainScreen) -> None:
        """Ask which attempts of which step should fail."""
        run = self.run
        fn = run["function"] if run else self._function()
        if fn is None:
            return
        step = self.detail.selected_step
        steps = run["steps"] if run else []
        known = [s["id"] for s in steps]
        done = [s["id"] for s in steps if s["status"] in ("completed", "failed")]
        live = run is not None and run["status"] in ACTIVE_RUN_STATUSES
        step_id = step["id"] if step else ""  # any status: a finished one fails in new runs
        if not step_id and run:  # the step it is about to run, if the timeline shows one
            pending = [s["id"] for s in run["steps"] if s["status"] in ("paused", "retrying")]
            step_id = pending[0] if pending else ""
        failures = self.engine.pending_failures(
            run_id=run["id"] if run else None, function_id=None if run else fn
        )
        self.app.push_screen(
            FailStepScreen(
                step_id,
                known,
                run["id"] if run else None,
                fn,
                run_live=live,
                pending=failures,
                finished=done,
            ),
            self._fail,
        )

    def _fail(self: MainScreen, request: FailRequest | None) -> None:
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
        self._refresh_functions()

    def action_retry_now(self: MainScreen) -> None:
        """Skip the wait the selected run is in."""
        run = self.run
        if run:
            self._do(lambda: self.engine.retry_now(run["id"]), None, [run["id"]])

    def action_replay_from_step(self: MainScreen) -> None:
        """New run of the same event from the selected step (earlier steps copied)."""
        run, step = self.run, self.detail.selected_step
        if run and step:
            new = self._do(
                lambda: self.engine.replay(run["id"], from_step=step["id"]),
            )
            self._select_soon(new)

    def action_rerun(self: MainScreen) -> None:
        """New run of the same event, from the start (after a yes: every step runs again)."""
        run = self.run
        if not run:
            return
        run_id = run["id"]

        def answered(yes: bool | None) -> None:
            if yes:
                self._select_soon(self._do(lambda: self.engine.replay(run_id)))

        self.app.push_screen(
            ConfirmScreen(
                "Rerun",
                f"Start a new run of {run['function']} with the event of run {short_id(run_id)}"
                f" ({run['event'].get('name', '')})?\n"
                "Every step runs again, side effects included.",
                "Rerun",
            ),
            answered,
        )

    def _select_soon(self: MainScreen, new: Any) -> None:
        if new is None:
            return
        self._await_run = new.id
        self.runs.update_runs([new.id])
        self._follow_new_run()

    def action_cancel_run(self: MainScreen) -> None:
        """Cancel the selected run (after a yes)."""
        run = self.run
        if not run:
            return
        run_id = run["id"]

        def answered(yes: bool | None) -> None:
            if yes:
                self._do(
                    lambda: self.engine.cancel(run_id),
                    None,
                    [run_id],
                )

        self.app.push_screen(
            ConfirmScreen(
                "Cancel run",
                f"Cancel run {run_id} of {run['function']}?\n"
                "It stops at its next step and can't be resumed.",
                "Cancel run",
            ),
            answered,
        )

    def action_continue_anyway(self: MainScreen) -> None:
        """Go on after a code-change hold."""
        run = self.run
        if run:
            self._do(
                lambda: self.engine.continue_anyway(run["id"]),
                None,
                [run["id"]],
            )

    def action_filter_status(self: MainScreen) -> None:
        """Pick the status filter."""

        def chosen(name: str | None) -> None:
            if name is not None:
                self._set_filter(RunFilter(self.runs.filter.function, name))

        self.app.push_screen(StatusFilterScreen(self.runs.filter.status), chosen)

    def action_all_functions(self: MainScreen) -> None:
        """Clear the function filter."""
        self._set_filter(RunFilter(None, self.runs.filter.status))
        self.functions.highlighted = 0
