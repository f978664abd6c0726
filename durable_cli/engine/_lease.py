"""This runner's lease: who it is in the store, kept alive while it works.

A runner executes only the runs it owns. It owns the runs it creates (from an event, a timer, a
cron tick) and the ones it claims (a due timer, a run queued by another process, the runs of a
runner that died); the store's `leases` write every such change in the transaction that makes
it. The lease itself is one row per runner, renewed here on the loop every third of its length;
when renewing finds that another runner's lease lapsed (or its process is gone), the engine
sweeps: it takes those runs over and resumes them from their journals.
"""

from __future__ import annotations

import time
from typing import Any

from ..store import Store, new_id

__all__ = ["DEFAULT_LEASE_S", "LeaseKeeper"]

DEFAULT_LEASE_S = 5.0


class LeaseKeeper:
    """Registers, renews and releases one runner's lease on a store."""

    def __init__(self, store: Store, lease_s: float = DEFAULT_LEASE_S) -> None:
        """Work on `store`'s leases; `lease_s` is how long a silent runner keeps its runs."""
        self._leases = store.leases
        self.lease_ms = max(1, int(lease_s * 1000))
        self.runner_id: str | None = None
        self._renew_at = 0.0
        self._others: set[str] = set()
        self.paused = False  # tests stop renewing to play a runner frozen past its lease

    @property
    def active(self) -> bool:
        """Whether this runner has registered (and not released) a lease."""
        return self.runner_id is not None

    def start(self) -> str:
        """Register under a new id (a runner that lost its lease never gets the old one back)."""
        self.runner_id = new_id()
        self._leases.register(self.runner_id, self.lease_ms)
        self._renew_at = time.monotonic() + self.lease_ms / 3000
        self._others = {rid for rid, info in self.runners().items() if info["live"]}
        self._others.discard(self.runner_id)
        return self.runner_id

    def due(self) -> bool:
        """Whether it is time to renew (cheap: asked on every turn of the serve loop)."""
        return self.runner_id is not None and time.monotonic() >= self._renew_at

    def seconds_to_renewal(self) -> float | None:
        """How long the serve loop may sleep before it must renew."""
        if self.runner_id is None:
            return None
        return max(0.0, self._renew_at - time.monotonic())

    def renew(self) -> tuple[bool, bool]:
        """Renew: (still ours, whether a runner we knew died and its runs need sweeping)."""
        self._renew_at = time.monotonic() + self.lease_ms / 3000
        if self.paused:
            return True, False
        if not self._leases.renew(self.lease_ms):
            return False, False
        live = {rid for rid, info in self.runners().items() if info["live"]}
        live.discard(self.runner_id)  # type: ignore[arg-type]
        gone = bool(self._others - live)
        self._others = live
        return True, gone

    def release(self) -> None:
        """Give the lease up: this runner's unfinished runs are anyone's at once."""
        if self.runner_id is not None:
            self._leases.release()
            self.runner_id = None

    def runners(self) -> dict[str, dict[str, Any]]:
        """Every runner the store knows, each with whether it is live."""
        return self._leases.runners()
