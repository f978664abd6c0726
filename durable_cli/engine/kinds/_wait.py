"""`step.wait_for_event`: the run is `waiting` until a matching event arrives or time runs out."""

from __future__ import annotations

from typing import Any

from ...sdk import Event, Plan
from ...store import StepRecord
from .._flow import lookup
from ._base import Host, Kind, seconds

__all__ = ["WAIT"]


class Wait(Kind):
    """Journal what to wait for once; the engine's intake completes the step when it arrives."""

    name = "wait"
    label = "wait for event"
    mark = "wait"
    run_status = "waiting"
    shows_output = True
    due_field = "expires"

    def begin(
        self,
        inv: Host,
        sid: str,
        rec: StepRecord | None,
        event: str = "",
        timeout: Any = None,
        match: str | None = None,
    ) -> Plan:
        """Register the wait (new or resumed); at its expiry complete it with None."""
        now = inv.now()
        if rec is None:
            if not isinstance(event, str) or not event:
                raise TypeError("wait_for_event needs event=<event name>")
            expires = now + int(seconds(timeout) * 1000)
            expected = lookup(inv.run.event, match) if match else None
            meta = {"event": event, "match": match, "expected": expected, "since": now}
            rec = self.started(inv, sid, now, **meta, expires=expires)
        name = rec.meta["event"]
        if now >= rec.meta["expires"]:
            inv.engine.store.set_flag(f"wait/{name}/{inv.run.id}", None)
            return self.finish(inv, rec, None)
        self.hold(inv, rec, rec.meta["expires"], {"event": name}, save=inv.engine.register_wait)

    def replayed(self, output: Any) -> Any:
        """The awaited event comes back as an `Event`; a timeout as None."""
        return None if output is None else Event.from_dict(output)


WAIT = Wait()
