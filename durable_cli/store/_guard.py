"""What SQLite and the file system can say, turned into one-line `StateError`s; busy retried.

Several processes share a state dir (the runner, `durable send`, `show`, …). SQLite's busy
handler already waits for a lock; on top of it every store operation is retried with jittered
exponential backoff for up to `BUSY_DEADLINE_S`, so "database is locked" never reaches a user:
past the deadline they get a StateError naming the state dir instead.
"""

from __future__ import annotations

import errno
import functools
import os
import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

import diskcache

from ..errors import StateError
from ._files import damaged, is_damage

__all__ = ["BUSY_DEADLINE_S", "STORAGE_ERRORS", "guarded", "is_busy", "retry_busy", "translate"]

BUSY_DEADLINE_S = 60.0
_FIRST_DELAY_S = 0.002
_MAX_DELAY_S = 0.1

T = TypeVar("T")

_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SQLITE_READONLY, _SQLITE_IOERR = 8, 10
_SQLITE_FULL, _SQLITE_CANTOPEN = 13, 14
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` means another connection holds a lock (worth waiting for)."""
    if isinstance(exc, diskcache.Timeout):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
        return "locked" in str(exc) or "busy" in str(exc)
    return False


def translate(exc: BaseException, path: str) -> StateError:
    """A StateError that names the state dir and says what went wrong, in one line."""
    if isinstance(exc, StateError):
        return exc
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        if code == _SQLITE_FULL or "disk is full" in detail:
            return StateError(f"{path}: disk full: the journal could not be written ({detail})")
        if is_damage(exc):
            return damaged(path, detail)
        if code == _SQLITE_READONLY:
            return StateError(f"{path}: the journal is read-only here ({detail})")
        if code == _SQLITE_CANTOPEN:
            return StateError(f"{path}: can't open the journal ({detail}); check permissions")
        if code == _SQLITE_IOERR:
            if _disk_full(path):  # SQLite can't grow its -shm file: an I/O error, not FULL
                return StateError(f"{path}: disk full: the journal could not be opened ({detail})")
            return StateError(f"{path}: I/O error on the journal ({detail})")
        if is_busy(exc):
            return _busy_error(path)
        return StateError(f"{path}: journal error ({detail})")
    if isinstance(exc, diskcache.Timeout):
        return _busy_error(path)
    if isinstance(exc, OSError):
        reason = exc.strerror or detail
        where = exc.filename or path
        if exc.errno in _FULL_ERRNOS:
            return StateError(f"{path}: disk full: {where} could not be written ({reason})")
        return StateError(f"{path}: {where}: {reason}")
    return StateError(f"{path}: {detail}")


def _disk_full(path: str) -> bool:
    try:
        st = os.statvfs(path)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def _busy_error(path: str) -> StateError:
    return StateError(
        f"{path}: the journal stayed locked by another process for {BUSY_DEADLINE_S:g}s;"
        " try again (is a process stuck holding it?)"
    )


STORAGE_ERRORS = (sqlite3.Error, diskcache.Timeout, OSError)


def retry_busy(path: str, op: Callable[[], T], *, retry: bool = True) -> T:
    """Run `op`, retrying while the journal is busy; any storage error becomes a StateError."""
    deadline: float | None = None
    delay = _FIRST_DELAY_S
    while True:
        try:
            return op()
        except STORAGE_ERRORS as exc:
            if not retry or not is_busy(exc):
                raise translate(exc, path) from None
            now = time.monotonic()
            if deadline is None:
                deadline = now + BUSY_DEADLINE_S
            elif now >= deadline:
                raise _busy_error(path) from None
        time.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, _MAX_DELAY_S)


def guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Decorate a store method: busy retried (outside a transaction), errors translated.

    Only for methods that are safe to run again after a failure: each either ran in a
    transaction that was rolled back or was a single statement that did not happen.
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> T:
        try:  # the first try costs one frame: this wraps every journal write
            return method(self, *args, **kwargs)
        except STORAGE_ERRORS as exc:
            # inside a transaction a retry would repeat half of it: the outermost caller retries
            if not is_busy(exc) or self.in_transaction:
                raise translate(exc, self.path) from None
        return retry_busy(self.path, lambda: method(self, *args, **kwargs))

    return wrapper
