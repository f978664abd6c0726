"""Event intake: the runs an event starts, the waits it ends and the runs it cancels, decided in
the transaction that takes it off the queue, so an event is never lost or run twice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..sdk import Function
from ..store import ACTIVE_RUN_STATUSES, RunRecord, new_id
from . import _actions as actions
from ._flow import lookup

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Intake"]


class Intake:
    """Takes events off the store's queue into runs; notices other processes' changes."""

    def __init__(self, engine: Engine) -> None:
        """Feed `engine`."""
        self.engine = engine
        self.due = True  # the queue may hold events: look at it on the next turn
        self.refresh_due = False  # another process changed something: look again

    def make_event(self, name: str, data: Any = None, **kwargs: Any) -> dict[str, Any]:
        """A validated event stamped with the engine's clock."""
        return actions.make_event(name, data, ts=self.engine.clock.now_ms(), **kwargs)

    def new_run(
        self,
        fn: Function,
        event: dict[str, Any],
        step_modes: dict[str, Any] | None = None,
        **fields: Any,
    ) -> RunRecord:
        """A queued run of `fn` for `event` (not yet stored), owned by this runner."""
        engine = self.engine
        now = engine.clock.now_ms()
        key = actions.STEP_MODE_FLAGS + fn.id
        step_mode = engine.store.get_flag(key) if step_modes is None else step_modes.get(key)
        run = RunRecord(
            id=new_id(now),
            function=fn.id,
            event=event,
            status="queued",
            created_at=now,
            step_mode=bool(step_mode),
            owner=engine.lease.runner_id,  # created by this runner, in the claim: it is ours
            **fields,
        )
        priority = engine.flow.priority(fn, event)
        if priority:
            run.meta["priority"] = priority
        return run

    def _plan_runs(
        self, event: dict[str, Any], resumed: list[str], modes: dict[str, Any], waits: bool
    ) -> list[RunRecord]:
        """Inside the dequeue transaction: the runs an event starts, waits it ends (if any run
        `waits`), runs it cancels."""
        engine = self.engine
        runs = [
            self.new_run(fn, event, modes)
            for fn in engine.registry.for_event(event["name"])
            if engine.flow.admit(fn, event)
        ]
        if waits:
            resumed.extend(engine.services.match_waits(event))
        for fn in engine.registry.cancelled_by(event["name"]):
            self._cancel_matching(fn, event)
        return runs

    def _cancel_matching(self, fn: Function, event: dict[str, Any]) -> None:
        for entry in fn.options.cancel_on:
            if entry["event"] != event["name"]:
                continue
            path = entry["match"]
            for run in self.engine.store.list_runs(function=fn.id, status=ACTIVE_RUN_STATUSES):
                if path and lookup(run.event, path) != lookup(event, path):
                    continue
                if run.created_at > event["ts"]:
                    continue  # a run started after the cancelling event is not cancelled
                self.cancel_now(run, f"cancelled by event {event['name']} ({event['id']})")

    def cancel_now(self, run: RunRecord, reason: str) -> None:
        """Cancel a run for the engine's own reasons (cancel_on, timeouts)."""
        engine = self.engine
        run.status, run.reason = "cancelled", reason
        run.ended_at, run.wake_at = engine.clock.now_ms(), None
        engine.store.save_run(run)
        engine.schedule.cancel_in_flight(run.id)
        engine.timers.cancel(run.id)
        engine.emit_run(run, "cancelled", error=reason)

    def take(self) -> None:
        """Claim a batch of queued events into runs, and resume the waits they end."""
        engine = self.engine
        store = engine.store
        resumed: list[str] = []
        if store.has_queued():
            modes = store.flags(actions.STEP_MODE_FLAGS)  # once per batch, not once per run
            waits: list[bool] = []

            def plan(event: dict[str, Any]) -> list[RunRecord]:
                if not waits:
                    # whether any run waits for an event at all (mostly none does): asked
                    # once, inside the claim's transaction, so no wait can slip in meanwhile
                    waits.append(store.has_flags("wait/"))
                return self._plan_runs(event, resumed, modes, waits[0])

            # small batches: the claim runs on the loop thread the TUI shares; a plan reads
            # runs only to cancel them, and with no `cancel_on` the runs go in one statement
            cancels = engine.registry.cancels
            created = store.claim_events(plan, limit=16, reads_runs=cancels)
            # claims come in batches: come back for the rest after dispatching these
            self.due = store.has_queued()
            schedule = engine.schedule
            for run in created:
                engine.emit_run(run, "queued")
                schedule.keep_fresh(run)
                engine.push(run.id, run.meta.get("priority", 0))
        for run_id in resumed:
            engine.push(run_id)

    def refresh(self) -> None:
        """After a poke from another process: queued runs, injected failures, cancellations."""
        engine = self.engine
        store = engine.store
        # runs queued by other processes (`durable replay`) leave a note to pick them up
        for key in store.flags("runq/"):
            run = store.get_run(key.removeprefix("runq/"))
            store.set_flag(key, None)
            if run is not None and run.status == "queued":
                engine.push(run.id, run.meta.get("priority", 0))
        engine.services.reload_failures()
        active = engine.schedule.active
        for run_id, inv in list(active.items()):
            run = store.get_run(run_id)
            if inv is not None and run is not None and run.status == "cancelled":
                inv.cancelled = True

    def on_ping(self) -> None:
        """The wake FIFO (or LISTEN connection) became readable: look at everything again."""
        engine = self.engine
        engine.store.drain_wake()
        self.due = True
        self.refresh_due = True
        engine.poke()
