"""What `durable dev --database-url` shows beyond its own runner: the other workers' runs, and
how many workers are live.

The engine reports only its own changes. On a shared database, the runs other workers move on
are found by a look at the journal every second, on a thread of its own (never the UI loop),
and reported to the engine's listeners as its own are (the TUI's rows and run detail follow
them). Each look also counts the live workers; a `workers` change carries that count and the
database's name, for the status line.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from ..engine import ACTIVE_RUN_STATUSES, Change, Engine
from ..errors import DurableError

__all__ = ["OtherWorkers"]

_RECENT = 100  # newest runs read each look: runs that began and ended between two looks
_ACTIVE = 2000  # unfinished runs read each look (their status changes are what matter)


class OtherWorkers:
    """Reports other workers' run changes and the live worker count to `engine`'s listeners."""

    def __init__(self, engine: Engine, database: str, every_s: float = 1.0) -> None:
        """Watch `engine`'s store (named `database` on the status line) every `every_s`."""
        self.engine = engine
        self.database = database
        self.every_s = every_s
        self._seen: dict[str, str] = {}  # run id -> status last reported (by anyone)
        self._live: int | None = None
        self._primed = False  # the first look only learns what is there: the TUI reads it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, change: Change) -> None:
        """As a listener of the engine: its own run changes need no second report."""
        if change.kind == "run" and change.run_id and change.status:
            self._seen[change.run_id] = change.status  # one dict write: no lock needed

    def start(self) -> None:
        """Listen to the engine and look every `every_s` on a daemon thread."""
        self.engine.add_listener(self)
        self._thread = threading.Thread(target=self._run, name="durable-others", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop looking (a look under way finishes on its own)."""
        self._stop.set()
        self.engine.remove_listener(self)

    def _run(self) -> None:
        while True:
            with contextlib.suppress(DurableError):  # the database is away: look again later
                self.look()
            if self._stop.wait(self.every_s):
                return

    def look(self) -> None:
        """One look: report each run whose status changed since the last, and the worker count."""
        engine = self.engine
        store = engine.store
        runs = {r.id: r for r in store.list_runs(status=ACTIVE_RUN_STATUSES, limit=_ACTIVE)}
        runs.update((r.id, r) for r in store.list_runs(limit=_RECENT))
        seen = self._seen
        ended = [rid for rid, status in seen.items() if status in _ACTIVE_SET and rid not in runs]
        if ended:
            runs.update(store.get_runs(ended))
        for run in runs.values():
            if seen.get(run.id) != run.status:
                seen[run.id] = run.status
                if self._primed:
                    engine.emit_run(run, run.status)
        for rid in [rid for rid in seen if rid not in runs]:  # older than what is looked at
            seen.pop(rid, None)
        self._primed = True
        live = sum(1 for info in engine.lease.runners().values() if info["live"])
        if live != self._live:
            self._live = live
            detail: dict[str, Any] = {"database": self.database, "live": live}
            engine.emit(Change("workers", engine.clock.now_ms(), detail=detail))


_ACTIVE_SET = frozenset(ACTIVE_RUN_STATUSES)
