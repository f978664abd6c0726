"""What a runner does besides running steps: take over the runs no live runner holds, keep its
lease, and fire the timers it knows of. All on the loop thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import LeaseLost
from ..store import ACTIVE_RUN_STATUSES, RunRecord
from ._listener import Change
from ._timers import TIMER_PREFIX

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Upkeep"]

_RESUMABLE = ACTIVE_RUN_STATUSES - {"paused"}


class Upkeep:
    """Recovery, the lease's renewal and loss, and timer firing for one engine."""

    def __init__(self, engine: Engine) -> None:
        """Look after `engine`."""
        self.engine = engine
        self.lost = False  # the lease was revoked: finish what is in flight, then start again

    # -- taking runs over ---------------------------------------------------------------------
    def recover(self) -> None:
        """On start: take over the runs no live runner holds (oldest first), learn every due
        time, and resume waits whose child run ended while nothing ran."""
        engine = self.engine
        store = engine.store
        self.sweep()
        for at, run_id in store.leases.upcoming():
            engine.arm(run_id, at)
        for run in reversed(list(store.list_runs(status=_RESUMABLE))):
            if run.status == "waiting" and run.children and run.wake_at is None:
                child = store.get_run(run.children[-1])
                if child is None or child.finished:
                    run.status = "queued"  # as when the child ends: claimable, then resumed
                    if store.save_run(run):
                        engine.push(run.id)
            self.arm_finish_timeout(run)
        engine.flow.recover_timers()
        for key in store.flags("runq/"):  # queued runs were all picked up above
            store.set_flag(key, None)

    def sweep(self) -> None:
        """Take over the queued and running runs that no live runner holds, and resume them."""
        engine = self.engine
        for run in reversed(engine.store.leases.take_over(("queued", "running"))):
            engine.push(run.id, run.meta.get("priority", 0))
            self.arm_finish_timeout(run)

    def claim_due(self) -> None:
        """Take the runs whose due time came, wherever it was set (another runner's, say)."""
        engine = self.engine
        for run in engine.store.leases.claim_due(engine.clock.now_ms()):
            engine.push(run.id, run.meta.get("priority", 0))

    # -- the lease ----------------------------------------------------------------------------
    def keep_lease(self) -> None:
        """Renew the lease; sweep when another runner died; notice when ours was revoked."""
        ours, gone = self.engine.lease.renew()
        if not ours:
            raise LeaseLost("this runner's lease was revoked")
        if gone:
            self.sweep()

    def lease_lost(self) -> None:
        """Another runner holds our runs now: drop every plan; what is in flight stops at its
        next (refused) write; then `restart` registers anew and sweeps."""
        if self.lost:
            return
        self.lost = True
        engine = self.engine
        engine.emit(
            Change(kind="error", at=engine.clock.now_ms(), error="lease lost: runs dropped")
        )
        engine.schedule.clear()
        engine.timers.clear()
        engine.flow.forget()

    def restart(self) -> None:
        """After a lost lease, once nothing is in flight: a new lease, and recovery."""
        self.lost = False
        self.engine.lease.start()
        self.recover()
        self.engine.cron.arm_all(catch_up=False)

    # -- timers -------------------------------------------------------------------------------
    def fire_timers(self) -> None:
        """Fire every timer due by now: a run's own goes back to the ready queue."""
        engine = self.engine
        now, timers = engine.clock.now_ms(), engine.timers
        while (timer_id := timers.pop_due(now)) is not None:
            if not timer_id.startswith(TIMER_PREFIX):
                engine.push(timer_id)
            else:
                self._fire_special(timer_id.removeprefix(TIMER_PREFIX))

    def _fire_special(self, what: str) -> None:
        engine = self.engine
        run = None
        if what.startswith("debounce/"):
            run = engine.flow.fire_debounce(what)
        elif what.startswith("cron/"):
            run = engine.cron.fire(what.removeprefix("cron/"))
        elif what.startswith("finish/"):
            victim = engine.store.get_run(what.removeprefix("finish/"))
            if victim is not None and not victim.finished:
                fn = engine.registry.get(victim.function)
                limit = fn.options.timeouts.get("finish") if fn else None
                engine.intake.cancel_now(
                    victim, f"timed out: did not finish within {limit or '?'}s"
                )
        if run is not None:
            engine.emit_run(run, "queued")
            engine.push(run.id, run.meta.get("priority", 0))

    def arm_finish_timeout(self, run: RunRecord, started_at: int | None = None) -> None:
        """Cancel the run if it has not finished `timeouts['finish']` after it started."""
        engine = self.engine
        fn = engine.registry.get(run.function)
        finish = fn.options.timeouts.get("finish") if fn else None
        started_at = started_at or run.started_at
        if finish is not None and started_at is not None:
            engine.arm(f"{TIMER_PREFIX}finish/{run.id}", started_at + int(finish * 1000))
