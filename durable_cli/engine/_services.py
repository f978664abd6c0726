"""What invocations ask of the engine: injected failures, waits, sent events, child runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..sdk import Function
from ..store import RunRecord, StepRecord, new_id
from ._flow import lookup

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["StepServices"]


class StepServices:
    """Mixed into `Engine`; called from invocations (possibly in worker threads)."""

    def take_injection(self: Engine, run: RunRecord, step_id: str) -> tuple[str, str] | None:
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

    def register_wait(self: Engine, run: RunRecord, rec: StepRecord) -> None:
        """Journal a wait for an event and the run's new status, together."""
        meta = rec.meta
        with self.store.batch():
            self.store.save_step(rec, run=run)
            self.store.set_flag(
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

    def send_from_step(self: Engine, name: str, data: Any, rec: StepRecord) -> list[str]:
        """Send an event from a step, journaling the step in the same transaction."""
        if rec.status == "completed":
            return list(rec.output or [])
        event = self.make_event(name, data)
        now = self.clock.now_ms()
        rec.status, rec.output, rec.ended_at = "completed", [event["id"]], now
        rec.attempts[-1].ended_at = now
        with self.store.batch():
            self.store.put_event(event)
            self.store.save_step(rec)
        self.wake()
        return [event["id"]]

    def start_child(
        self: Engine, parent: RunRecord, rec: StepRecord, function: Any, data: Any
    ) -> None:
        """Create a child run for `step.invoke`, linked both ways, in one transaction."""
        fn_id = function.id if isinstance(function, Function) else function
        if not isinstance(fn_id, str) or self.registry.get(fn_id) is None:
            raise InputError(f"step.invoke: no loaded function {fn_id!r}")
        now = self.clock.now_ms()
        event = self.make_event(f"invoke/{fn_id}", data)
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
        with self.store.batch():
            self.store.create_runs([child])
            self.store.save_step(rec, run=parent)
        self.emit_run(child, "queued")
        self.enqueue(child.id)

    def _match_waits(self: Engine, event: dict[str, Any]) -> list[str]:
        """Complete the waits this event satisfies (inside the intake transaction)."""
        resumed = []
        for key, wait in self.store.flags(f"wait/{event['name']}/").items():
            if event["ts"] < wait["since"]:
                continue
            if wait.get("match"):
                value = lookup(event, wait["match"])
                if value is None or value != wait.get("expected"):
                    continue
            run = self.store.get_run(wait["run"])
            self.store.set_flag(key, None)
            if run is None or run.finished:
                continue
            steps = {s.seq: s for s in self.store.load_steps(run.id)}
            rec = steps.get(wait["seq"])
            if rec is None or rec.status == "completed":
                continue
            now = self.clock.now_ms()
            rec.status, rec.output, rec.ended_at = "completed", event, now
            if rec.attempts:
                rec.attempts[-1].ended_at = now
            run.status, run.wake_at = "queued", None
            self.store.save_step(rec, run=run)
            resumed.append(run.id)
        return resumed
