"""What invocations ask of the engine: injected failures, waits, sent events, child runs."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..sdk import Function
from ..store import RunRecord, StepRecord, new_id
from ._flow import lookup

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["StepServices"]


class StepServices:
    """Called from invocations (possibly in worker threads); keeps the engine's copy of the
    pending injected failures, which every attempt consults."""

    def __init__(self, engine: Engine) -> None:
        """Serve `engine`'s invocations."""
        self.engine = engine
        self._failures = engine.store.failures()
        self._failure_lock = threading.Lock()

    def reload_failures(self) -> None:
        """Attempts already under way read this copy: bring it up to date at once."""
        failures = self.engine.store.failures()
        with self._failure_lock:
            self._failures = failures

    def take_injection(self, run: RunRecord, step_id: str) -> tuple[str, str] | None:
        """Use one injected failure for this attempt, if any applies: (key, message)."""
        if not self._failures:
            return None
        with self._failure_lock:
            for key in (f"run:{run.id}/{step_id}", f"fn:{run.function}/{step_id}"):
                entry = self._failures.get(key)
                if entry is None:
                    continue
                if entry["times"] > 0:
                    entry["times"] -= 1
                    if entry["times"] == 0:
                        del self._failures[key]
                return key, entry.get("message", "")
        return None

    def register_wait(self, run: RunRecord, rec: StepRecord) -> None:
        """Journal a wait for an event and the run's new status, together."""
        meta, store = rec.meta, self.engine.store
        with store.batch():
            store.save_step(rec, run=run)
            store.set_flag(
                f"wait/{meta['event']}/{run.id}",
                {
                    "run": run.id,
                    "seq": rec.seq,
                    "step": rec.id,
                    "match": meta.get("match"),
                    "expected": meta.get("expected"),
                    "since": meta["since"],
                },
            )

    def send_from_step(self, name: str, data: Any, rec: StepRecord) -> list[str]:
        """Send an event from a step, journaling the step in the same transaction."""
        if rec.status == "completed":
            return list(rec.output or [])
        engine = self.engine
        store = engine.store
        event = engine.intake.make_event(name, data)
        now = engine.clock.now_ms()
        rec.status, rec.output, rec.ended_at = "completed", [event["id"]], now
        rec.attempts[-1].ended_at = now
        with store.batch():
            store.put_event(event)
            store.save_step(rec)
        engine.wake()
        return [event["id"]]

    def new_child(self, parent: RunRecord, rec: StepRecord, function: Any, data: Any) -> RunRecord:
        """The child run of `step.invoke` (not stored yet), linked both ways; InputError for a
        function that is not loaded or data that is not an event's."""
        engine = self.engine
        fn_id = function.id if isinstance(function, Function) else function
        if not isinstance(fn_id, str) or engine.registry.get(fn_id) is None:
            raise InputError(f"step.invoke: no loaded function {fn_id!r}")
        now = engine.clock.now_ms()
        event = engine.intake.make_event(f"invoke/{fn_id}", data)
        child = RunRecord(
            id=new_id(now),
            function=fn_id,
            event=event,
            status="queued",
            created_at=now,
            parent={"run": parent.id, "step": rec.id},
        )
        rec.meta["child"] = child.id
        parent.children.append(child.id)
        return child

    def start_child(self, parent: RunRecord, rec: StepRecord, child: RunRecord) -> None:
        """Store a child run made by `new_child` and its parent as it is now (its hold), in one
        transaction, and queue the child."""
        engine = self.engine
        store = engine.store
        with store.batch():
            store.create_runs([child])
            store.save_step(rec, run=parent)
        engine.emit_run(child, "queued")
        engine.enqueue(child.id)

    def match_waits(self, event: dict[str, Any]) -> list[str]:
        """Complete the waits this event satisfies (inside the intake transaction)."""
        store, resumed = self.engine.store, []
        for key, wait in store.flags(f"wait/{event['name']}/").items():
            if event["ts"] < wait["since"]:
                continue
            if wait.get("match"):
                value = lookup(event, wait["match"])
                if value is None or value != wait.get("expected"):
                    continue
            run = store.get_run(wait["run"])
            store.set_flag(key, None)
            if run is None or run.finished:
                continue
            steps = {s.seq: s for s in store.load_steps(run.id)}
            rec = steps.get(wait["seq"])
            if rec is None or rec.status == "completed":
                continue
            now = self.engine.clock.now_ms()
            rec.status, rec.output, rec.ended_at = "completed", event, now
            if rec.attempts:
                rec.attempts[-1].ended_at = now
            run.status, run.wake_at = "queued", None
            store.save_step(rec, run=run)
            resumed.append(run.id)
        return resumed
