"""Flow control: who gets a run (idempotency, rate limit, debounce) and when it may execute
(concurrency, throttle, priority, start/finish timeouts).

Intake-side decisions run inside the transaction that dequeues the event, so they are exactly
once. Every budget (concurrency slots, throttle and rate-limit windows) is counted in the store,
in a transaction of its own, so it holds across every runner sharing the store; what is kept in
memory is only which of this runner's runs wait for a slot.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from ..sdk import Event, Function
from ..store import RunRecord, dumps

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["IDEMPOTENCY_WINDOW_MS", "FlowControl", "lookup"]

IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000


def lookup(data: Any, path: str | None) -> Any:
    """Follow a dotted path ('event.data.user_id') into nested dicts; None when absent."""
    if not path:
        return None
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _key(fn: Function, path: str | None, event: dict[str, Any]) -> str:
    value = lookup({"event": event}, path)
    return fn.id if path is None else f"{fn.id}/{dumps(value)}"


class FlowControl:
    """The per-function limits of one engine."""

    def __init__(self, engine: Engine) -> None:
        """Bind to the engine whose clock, store and timers it uses."""
        self.engine = engine
        self._blocked: dict[str, deque[str]] = {}  # runs of ours waiting for a slot, by key

    # -- intake (inside the dequeue transaction) ---------------------------------------------
    def admit(self, fn: Function, event: dict[str, Any]) -> bool:
        """Whether this event gets a run of `fn` now (False: skipped or debounced)."""
        opts, now, store = fn.options, self.engine.clock.now_ms(), self.engine.store
        if opts.idempotency is not None:
            key = f"idem/{_key(fn, opts.idempotency, event)}"
            seen = store.get_flag(key)
            if seen is not None and now - seen < IDEMPOTENCY_WINDOW_MS:
                return False
            store.set_flag(key, now)
        if opts.rate_limit is not None:
            limit = opts.rate_limit
            key = f"rl/{_key(fn, limit['key'], event)}"
            period = int(limit["period"] * 1000)
            if store.leases.window(key, event["id"], now, period, limit["limit"]):
                return False
        if opts.debounce is not None:
            key = f"debounce/{_key(fn, opts.debounce['key'], event)}"
            due = now + int(opts.debounce["period"] * 1000)
            store.set_flag(key, {"function": fn.id, "event": event, "due": due})
            self.engine.set_timer(f"timer:{key}", due)
            return False
        return True

    def fire_debounce(self, flag_key: str) -> RunRecord | None:
        """A debounce period ended: create the run for the last event it collected."""
        store, now = self.engine.store, self.engine.clock.now_ms()
        with store.batch():
            entry = store.get_flag(flag_key)
            if entry is None:
                return None
            if entry["due"] > now:  # a later event pushed it back
                self.engine.set_timer(f"timer:{flag_key}", entry["due"])
                return None
            fn = self.engine.registry.get(entry["function"])
            store.set_flag(flag_key, None)
            if fn is None:
                return None
            run = self.engine.new_run(fn, entry["event"])
            store.create_runs([run])
        return run

    def recover_timers(self) -> None:
        """After a restart: re-arm the debounce timers that were pending."""
        for key, entry in self.engine.store.flags("debounce/").items():
            self.engine.set_timer(f"timer:{key}", entry["due"])

    def priority(self, fn: Function, event: dict[str, Any]) -> int:
        """The run's priority (higher starts first)."""
        p = fn.options.priority
        if callable(p):
            try:
                return int(p(Event.from_dict(event)))
            except Exception:  # a broken priority expression must not lose the event
                return 0
        return int(p or 0)

    # -- dispatch ---------------------------------------------------------------------------
    def acquire(self, fn: Function, run: RunRecord) -> bool:
        """Whether `run` may execute now; if not it is parked (or timed) and False returned."""
        opts, engine = fn.options, self.engine
        leases = engine.store.leases
        if opts.throttle is not None and run.started_at is None:
            limit = opts.throttle
            key = f"th/{_key(fn, limit['key'], run.event)}"
            period = int(limit["period"] * 1000)
            free_at = leases.window(key, run.id, engine.clock.now_ms(), period, limit["limit"])
            if free_at:
                engine.set_timer(run.id, free_at)
                return False
        if opts.concurrency is not None:
            key = _key(fn, opts.concurrency["key"], run.event)
            if not leases.take_slot(key, run.id, opts.concurrency["limit"]):
                self._blocked.setdefault(key, deque()).append(run.id)
                return False
        return True

    def release(self, fn: Function, run: RunRecord) -> None:
        """`run` stopped executing: give its slot back and let the next parked run of its key
        try again."""
        if fn.options.concurrency is None:
            return
        key = _key(fn, fn.options.concurrency["key"], run.event)
        self.engine.store.leases.free_slot(key, run.id)
        blocked = self._blocked.get(key)
        if blocked:
            self.engine.enqueue(blocked.popleft())

    def retry_blocked(self) -> None:
        """Let the first parked run of each key try again (a slot may have freed elsewhere)."""
        for blocked in self._blocked.values():
            if blocked:
                self.engine.enqueue(blocked.popleft())

    def forget(self) -> None:
        """Drop what this runner remembered (its lease was lost; the store keeps the truth)."""
        self._blocked.clear()

    def start_timed_out(self, fn: Function, run: RunRecord) -> bool:
        """True when the run waited longer than `timeouts['start']` to begin."""
        start = fn.options.timeouts.get("start")
        return (
            start is not None
            and run.started_at is None
            and self.engine.clock.now_ms() - run.created_at > start * 1000
        )
