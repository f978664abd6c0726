"""Event intake: the runs an event starts, the waits it ends and the runs it cancels, decided in
the transaction that takes it off the queue, so an event is never lost or run twice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..sdk import Function
from ..store import RunRecord, new_id
from . import _actions as actions
from ._flow import lookup

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Intake"]

_CANCELLABLE = ("queued", "running", "retrying", "sleeping", "waiting", "paused")


class Intake:
    """Mixed into `Engine`."""

    def make_event(self: Engine, name: str, data: Any = None, **kwargs: Any) -> dict[str, Any]:
        """A validated event stamped with the engine's clock."""
        return actions.make_event(name, data, ts=self.clock.now_ms(), **kwargs)

    def new_run(
        self: Engine,
        fn: Function,
        event: dict[str, Any],
        step_modes: dict[str, Any] | None = None,
        **fields: Any,
    ) -> RunRecord:
        """A queued run of `fn` for `event` (not yet stored)."""
        now = self.clock.now_ms()
        key = f"stepmode/{fn.id}"
        step_mode = self.store.get_flag(key) if step_modes is None else step_modes.get(key)
        run = RunRecord(
            id=new_id(now),
            function=fn.id,
            event=event,
            status="queued",
            created_at=now,
            step_mode=bool(step_mode),
            owner=self.lease.runner_id,  # created by this runner, in the claim: it is ours
            **fields,
        )
        priority = self.flow.priority(fn, event)
        if priority:
            run.meta["priority"] = priority
        return run

    def _plan_runs(
        self: Engine,
        event: dict[str, Any],
        resumed: list[str],
        modes: dict[str, Any],
        waits: bool,
    ) -> list[RunRecord]:
        """Inside the dequeue transaction: the runs an event starts, waits it ends (if any run
        `waits`), runs it cancels."""
        runs = [
            self.new_run(fn, event, modes)
            for fn in self.registry.for_event(event["name"])
            if self.flow.admit(fn, event)
        ]
        if waits:
            resumed.extend(self._match_waits(event))
        for fn in self.registry.cancelled_by(event["name"]):
            self._cancel_matching(fn, event)
        return runs

    def _cancel_matching(self: Engine, fn: Function, event: dict[str, Any]) -> None:
        for entry in fn.options.cancel_on:
            if entry["event"] != event["name"]:
                continue
            path = entry["match"]
            for run in self.store.list_runs(function=fn.id, status=_CANCELLABLE):
                if path and lookup(run.event, path) != lookup(event, path):
                    continue
                if run.created_at > event["ts"]:
                    continue  # a run started after the cancelling event is not cancelled
                self._cancel_now(run, f"cancelled by event {event['name']} ({event['id']})")

    def _cancel_now(self: Engine, run: RunRecord, reason: str) -> None:
        run.status, run.reason = "cancelled", reason
        run.ended_at, run.wake_at = self.clock.now_ms(), None
        self.store.save_run(run)
        inv = self._active.get(run.id)
        if inv is not None:
            inv.cancelled = True
        self._timer_at.pop(run.id, None)
        self.emit_run(run, "cancelled", error=reason)

    def _intake(self: Engine) -> None:
        resumed: list[str] = []
        if self.store.has_queued():
            modes = self.store.flags("stepmode/")  # once per batch, not once per run
            waits: list[bool] = []

            def plan(event: dict[str, Any]) -> list[RunRecord]:
                if not waits:
                    # whether any run waits for an event at all (mostly none does): asked
                    # once, inside the claim's transaction, so no wait can slip in meanwhile
                    waits.append(self.store.has_flags("wait/"))
                return self._plan_runs(event, resumed, modes, waits[0])

            # small batches: the claim runs on the loop thread the TUI shares; a plan reads
            # runs only to cancel them, and with no `cancel_on` the runs go in one statement
            cancels = self.registry.cancels
            created = self.store.claim_events(plan, limit=16, reads_runs=cancels)
            # claims come in batches: come back for the rest after dispatching these
            self._intake_due = self.store.has_queued()
            for run in created:
                self.emit_run(run, "queued")
                self._fresh[run.id] = run
                self._enqueue(run.id, run.meta.get("priority", 0))
        for run_id in resumed:
            self._enqueue(run_id)

    def _refresh(self: Engine) -> None:
        """After a poke from another process: queued runs, injected failures, cancellations."""
        # runs queued by other processes (`durable replay`) leave a note to pick them up
        for key in self.store.flags("runq/"):
            run = self.store.get_run(key.removeprefix("runq/"))
            self.store.set_flag(key, None)
            if run is not None and run.status == "queued":
                self._enqueue(run.id, run.meta.get("priority", 0))
        with self._failure_lock:
            self._failures = self.store.failures()
        for run_id, inv in list(self._active.items()):
            run = self.store.get_run(run_id)
            if inv is not None and run is not None and run.status == "cancelled":
                inv.cancelled = True

    def _on_ping(self: Engine) -> None:
        self.store.drain_wake()
        self._intake_due = True
        self._refresh_due = True
        self._poke()
