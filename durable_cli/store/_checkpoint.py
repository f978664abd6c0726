"""WAL checkpoints in a thread of their own, so no commit of the runner's has to make them.

SQLite copies the write-ahead log back into the database once it passes the auto-checkpoint
mark, inside whichever commit crosses it, and every run waits for that commit while it copies.
The runner's busy writers instead nudge this thread after their commits; at most every
`interval` seconds it runs a PASSIVE checkpoint, which takes no lock that writers need and
releases the GIL while it copies, so the copying overlaps the runs on the other core. The
auto-checkpoint stays on behind it (only a writer can reset the log), with far less left to
copy, so its pauses are short (the README's Figures give both).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable

__all__ = ["Checkpointer"]

_INTERVAL_S = 0.1  # long enough that hot pages are copied once per pass, not once per commit
_JOIN_S = 5.0  # a pass copies at most a few thousand pages; never hang an exit on one


class Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` on a daemon thread when nudged, throttled."""

    def __init__(
        self,
        connection: Callable[[], sqlite3.Connection],
        release: Callable[[], None],
        interval: float = _INTERVAL_S,
    ) -> None:
        """`connection()` gives the calling thread's connection, `release()` closes it."""
        self._connection = connection
        self._release = release
        self._interval = interval
        self._due = 0.0  # monotonic time before which a nudge does nothing
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.passes = 0  # checkpoints made (tests and benchmarks read it)

    def nudge(self) -> None:
        """After a commit: start a checkpoint if the last one ended `interval` ago. Called by
        one writer at a time (the group commit's leader); never raises, the commit stands."""
        if self._stopping:
            return
        now = time.monotonic()
        if now < self._due:
            return
        self._due = now + self._interval  # one wake-up per interval, however many commits
        thread = self._thread
        if thread is None or not thread.is_alive():  # first nudge, or a forked child
            self._wake = threading.Event()
            thread = threading.Thread(target=self._run, name="durable-checkpoint", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # no thread to be had: the auto-checkpoint does it all
                return
            self._thread = thread
        self._wake.set()

    @property
    def thread(self) -> threading.Thread | None:
        """The checkpoint thread, once a nudge has started it (None before, and once closed)."""
        return self._thread

    def close(self) -> None:
        """Stop the thread (after the pass it may be making) and close its connection."""
        self._stopping = True
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._wake.set()
            thread.join(_JOIN_S)

    def _run(self) -> None:
        wake = self._wake
        try:
            while True:
                wake.wait()
                wake.clear()
                if self._stopping:
                    return
                # the next commit nudges again: a failed pass (damage, disk full) is the
                # writers' to report, and the auto-checkpoint is still there behind it
                with contextlib.suppress(sqlite3.Error):
                    self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.passes += 1
                self._due = time.monotonic() + self._interval
        finally:
            self._release()
