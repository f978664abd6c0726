"""`events=`: send an event the moment the run starts waiting for one of that name.

On virtual time an idle engine jumps straight to the wait's timeout, so an event can't be sent
"later": it is sent from the engine's change stream, right after the wait is journaled.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ..engine import Change, Engine, actions

__all__ = ["EventFeeder"]


def _payloads(name: Any, value: Any) -> list[dict[str, Any] | None]:
    if not isinstance(name, str):
        raise TypeError(f"events=: event names are strings, got {name!r}")
    items = list(value) if isinstance(value, list | tuple) else [value]
    for data in items:
        if data is not None and not isinstance(data, Mapping):
            raise TypeError(
                f"events[{name!r}]: expected the event's data (a dict) or a list of them, "
                f"got {type(data).__name__}"
            )
        actions.make_event(name, dict(data or {}))  # an InputError now, not lost in a listener
    return [None if d is None else dict(d) for d in items]


class EventFeeder:
    """A listener that answers each wait of one run with the next payload for its event name."""

    def __init__(self, events: Mapping[str, Any] | None) -> None:
        """Validate `{event name: data or [data, ...]}`; raises TypeError or InputError."""
        if events is not None and not isinstance(events, Mapping):
            raise TypeError(f"events= must be a dict of event name -> data, not {events!r}")
        self._pending = {name: _payloads(name, v) for name, v in (events or {}).items()}
        self._lock = threading.Lock()
        self.engine: Engine | None = None
        self.run_id: str | None = None

    @property
    def listens(self) -> bool:
        """Whether it has anything to send (else the engine needs no change stream for it)."""
        return any(self._pending.values())

    @property
    def unused(self) -> list[str]:
        """Event names with payloads no wait asked for."""
        return sorted(name for name, queue in self._pending.items() if queue)

    def __call__(self, change: Change) -> None:
        """On "run is waiting for event N": send the next payload queued for N."""
        if change.kind != "run" or change.status != "waiting" or change.run_id != self.run_id:
            return
        name = change.detail.get("event")
        with self._lock:
            queue = self._pending.get(name) if isinstance(name, str) else None
            if not queue:
                return
            data = queue.pop(0)
        if data is None:
            return  # a None in the list: this wait gets nothing and times out
        assert self.engine is not None and isinstance(name, str)
        self.engine.send(name, data)
