"""What a user does to a live engine (the TUI and the testing helper call these on its loop).

Each builds on the store-level `actions` (shared with the CLI, which works with no runner up) and
then tells the running scheduler, so an in-flight run sees the change at its next step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..store import TIMER_STATUSES, PendingFailure, RunRecord
from . import _actions as actions
from . import _queries as queries
from ._registry import Registry

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Controls"]


class Controls:
    """User actions on a live engine."""

    def __init__(self, engine: Engine) -> None:
        """Act on `engine`."""
        self.engine = engine

    def send(self, name: str, data: Any = None, *, event_id: str | None = None) -> str:
        """Queue an event and take it in at once."""
        engine = self.engine
        event = actions.make_event(name, data, event_id=event_id, ts=engine.clock.now_ms())
        engine.store.put_event(event)
        engine.wake()
        return event["id"]

    def cancel(self, run_id: str) -> RunRecord:
        """Cancel an unfinished run; one in flight stops at its next step."""
        engine = self.engine
        run = actions.cancel_run(engine.store, run_id, now_ms=engine.clock.now_ms())
        engine.schedule.cancel_in_flight(run.id)
        engine.timers.cancel(run.id)
        engine.emit_run(run, "cancelled")
        return run

    def inject_failure(self, step_id: str, **kwargs: Any) -> str:
        """Fail the next attempts of a step (see `actions.inject_failure`)."""
        engine = self.engine
        key = actions.inject_failure(
            engine.store, step_id, known_functions=engine.registry.functions, **kwargs
        )
        engine.services.reload_failures()
        return key

    def clear_failure(self, step_id: str, **kwargs: Any) -> PendingFailure:
        """Remove a step's pending injected failure (see `actions.clear_failure`)."""
        removed = actions.clear_failure(self.engine.store, step_id, **kwargs)
        self.engine.services.reload_failures()
        return removed

    def clear_all_failures(self) -> list[PendingFailure]:
        """Remove every pending injected failure; returns what was removed."""
        removed = actions.clear_all_failures(self.engine.store)
        self.engine.services.reload_failures()
        return removed

    def pending_failures(
        self, *, run_id: str | None = None, function_id: str | None = None
    ) -> list[PendingFailure]:
        """Injected failures still to happen: all, or those that can hit a run (its own and its
        function's), or new runs of a function."""
        store = self.engine.store
        run = actions.find_run(store, run_id) if run_id is not None else None
        found = queries.pending_failures(store, run)
        if function_id is not None:
            found = [f for f in found if f.function == function_id]
        return found

    def replay(self, run_id: str, from_step: str | None = None, *, data: Any = None) -> RunRecord:
        """Queue a new run of the same event (from a step: earlier steps copied; with `data`,
        its event carries that data instead)."""
        run = actions.replay_run(self.engine.store, run_id, from_step, data=data)
        self.engine.emit_run(run, "queued", detail={"replay_of": run.replay_of})
        self.engine.enqueue(run.id)
        return run

    def set_step_mode(
        self, *, run_id: str | None = None, function_id: str | None = None, on: bool = True
    ) -> None:
        """Step through a run (or new runs of a function): pause before each step."""
        actions.set_step_mode(self.engine.store, run_id=run_id, function_id=function_id, on=on)
        if run_id is not None and not on:
            self._resume_paused(run_id)

    def next_step(self, run_id: str) -> None:
        """In step mode: let exactly one more step attempt run."""
        store = self.engine.store
        run = actions.find_run(store, run_id)
        if run.finished:
            raise InputError(f"run {run.id} has already {run.status}")
        run.grants += 1
        if run.status == "paused":
            run.meta["resume"] = True
        store.save_run(run)
        if run.status == "paused":
            self.engine.enqueue(run.id)

    def _resume_paused(self, run_id: str) -> None:
        store = self.engine.store
        run = actions.find_run(store, run_id)
        if run.status == "paused":
            run.meta["resume"] = True
            store.save_run(run)
            self.engine.enqueue(run.id)

    def retry_now(self, run_id: str) -> None:
        """Skip a backoff or sleep wait: resume the run now."""
        engine = self.engine
        run = actions.find_run(engine.store, run_id)
        if run.status not in TIMER_STATUSES:
            raise InputError(f"run {run.id} is {run.status}, not waiting for a timer")
        now = engine.clock.now_ms()
        if run.status == "sleeping":
            actions.end_sleeps(engine.store, run, now)
        run.wake_at = now
        engine.store.save_run(run)
        engine.set_timer(run.id, now)

    def continue_anyway(self, run_id: str) -> None:
        """After a code-change hold: go on with the new code, matching steps by id."""
        run = actions.continue_run(self.engine.store, run_id)
        self.engine.emit_run(run, "queued")
        self.engine.enqueue(run.id)

    def swap_registry(self, registry: Registry) -> None:
        """Put new code live; runs paused for a missing function resume if it is back."""
        engine = self.engine
        engine.registry = registry
        for run in engine.store.list_runs(status="paused"):
            if run.reason and run.reason.startswith("function ") and registry.get(run.function):
                run.meta["resume"] = True
                engine.store.save_run(run)
                engine.enqueue(run.id)
        engine.wake()
