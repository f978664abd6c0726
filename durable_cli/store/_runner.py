"""Runner coordination: the lock that keeps one runner per state dir, and the wake FIFO other
processes poke it through. Files beside the journal, not rows in it."""

from __future__ import annotations

import contextlib
import fcntl
import os

from ._files import LOCK, lock_runner, notify, open_wake

__all__ = ["RunnerFiles", "runner_pid"]


def runner_pid(path: str) -> int | None:
    """The process id of the runner holding the state dir's lock (0: it didn't say), or None
    when no runner is up. Changes nothing."""
    try:
        fd = os.open(os.path.join(path, LOCK), os.O_RDONLY)
    except OSError:
        return None  # no lock file: no runner ever started here
    try:
        try:
            # flock, not fcntl: closing this descriptor can't drop anyone's SQLite locks
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            return int(holder) if holder.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class RunnerFiles:
    """A state dir's runner lock and wake FIFO, as one store object holds them."""

    def __init__(self, path: str) -> None:
        """The files of the state dir at `path`; nothing is opened until asked for."""
        self.path = path
        self._lock_fd: int | None = None
        self._wake_fd: int | None = None

    def lock(self) -> None:
        """Become the only runner here; the OS drops the lock when the holder dies."""
        self._lock_fd = lock_runner(self.path)

    def notify(self) -> None:
        """Poke a live runner through the wake FIFO; silently nothing when none listens."""
        notify(self.path)

    def wake_fd(self) -> int | None:
        """Open the wake FIFO for reading (the runner); None where FIFOs aren't supported."""
        if self._wake_fd is None:
            self._wake_fd = open_wake(self.path)
        return self._wake_fd

    def drain(self) -> None:
        """Consume pending notifications."""
        if self._wake_fd is None:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._wake_fd, 4096):
                pass

    def close(self) -> None:
        """Drop the runner lock and close the wake FIFO."""
        for fd in (self._lock_fd, self._wake_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._lock_fd = self._wake_fd = None
