"""Connecting to PostgreSQL: the URL (shown with its password masked), connection settings, and
what a database error means: worth retrying, a lost lease, or a one-line `StateError`."""

from __future__ import annotations

import random
import re
import time

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ...errors import InputError, LeaseLost, StateError

__all__ = [
    "Backoff",
    "connect",
    "describe",
    "is_retriable",
    "mask",
    "reason",
    "settings",
    "translate",
]

# connection exception, insufficient resources, operator intervention (a restart, a cancel),
# and a transaction the server rolled back to break a deadlock or a serialization conflict
_RETRIABLE_CLASSES = ("08", "53", "57")
_ROLLED_BACK = ("40001", "40P01")

# what libpq would otherwise do forever: wait for a connection, and for a peer that vanished
_DEFAULTS = {
    "connect_timeout": "5",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "3",
    "keepalives_count": "3",
    "application_name": "durable",
}
# a session frozen inside a transaction (a stopped process) holds its locks until this ends it
_SESSION = "-c idle_in_transaction_session_timeout=15000"


def mask(url: str) -> str:
    """The URL (or key=value string) with its password replaced by `***`."""
    url = re.sub(r"(://[^:/@?#]*:)[^@/?#]*@", r"\1***@", url)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", url)


def settings(url: str) -> str:
    """The connection string to use: the URL's own options, durable's defaults for the rest."""
    try:
        given = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        reason = " ".join(str(exc).split())
        raise InputError(f"{mask(url)}: not a PostgreSQL connection URL ({reason})") from None
    extra = {k: v for k, v in _DEFAULTS.items() if k not in given}
    options = given.get("options")
    extra["options"] = f"{options} {_SESSION}" if options else _SESSION
    return make_conninfo(url, **extra)


def describe(url: str) -> str:
    """`host:port/dbname` of a URL, as error messages name the database."""
    try:
        given = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return mask(url)
    host = given.get("host") or "localhost"
    port = given.get("port") or "5432"
    return f"{host}:{port}/{given.get('dbname') or given.get('user') or ''}"


def connect(conninfo: str) -> psycopg.Connection:
    """A new autocommit connection (transactions are begun explicitly)."""
    return psycopg.connect(conninfo, autocommit=True)


def is_retriable(exc: BaseException) -> bool:
    """Whether `exc` says the database was out of reach, restarting or busy, so the same work
    may simply be tried again (never a fault in what was asked)."""
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate
    if state is None:  # raised by the client: the connection broke, or never came up
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return state[:2] in _RETRIABLE_CLASSES or state in _ROLLED_BACK


def reason(exc: BaseException) -> str:
    """The useful part of a psycopg error, on one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return " ".join(text.rsplit("failed: ", 1)[-1].split()).removeprefix("FATAL: ").strip()


def translate(exc: BaseException, where: str) -> BaseException:
    """The error a user sees for a database error, on one line naming the database (`where`,
    as `describe` gives it): a `StateError` (durable's own errors pass through)."""
    if isinstance(exc, StateError | LeaseLost | InputError):
        return exc
    if isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None:
        return StateError(f"can't reach PostgreSQL at {where}: {reason(exc)}")
    return StateError(f"PostgreSQL at {where}: {reason(exc)}")


class Backoff:
    """Jittered exponential delays between tries, up to an optional deadline."""

    def __init__(self, deadline_s: float | None, first_s: float = 0.05, max_s: float = 2.0) -> None:
        """Give up after `deadline_s` seconds (None: never)."""
        self._end = None if deadline_s is None else time.monotonic() + deadline_s
        self._delay = first_s
        self._max = max_s

    def delay(self) -> float:
        """The next delay (jittered), doubling the one after."""
        delay = self._delay * random.uniform(0.5, 1.5)
        self._delay = min(self._delay * 2, self._max)
        return delay

    def wait(self) -> bool:
        """Sleep before the next try; False (without sleeping) once the deadline has passed."""
        if self._end is not None and time.monotonic() >= self._end:
            return False
        time.sleep(self.delay())
        return True
