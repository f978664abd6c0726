"""Wake-ups over LISTEN/NOTIFY, behind a file descriptor that never changes.

The engine watches one fd (`loop.add_reader`) for the store's whole life, but a LISTEN
connection is replaced whenever the database restarts. So a thread holds the LISTEN connection
and writes a byte into a pipe for each batch of notifications; the engine watches the pipe.
After every (re)connect the thread pokes once as well: notifications sent while it was away are
lost, and the poke makes the engine look at everything (the engine also polls every second, so
a lost notification only ever delays). NOTIFY is a hint, never part of a journal write.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading

import psycopg

from ._connect import Backoff, connect

__all__ = ["CHANNEL", "Listener"]

CHANNEL = "durable_wake"
_PROBE_S = 30.0  # a silent connection is checked this often (a dead peer may say nothing)


class Listener:
    """A LISTEN connection kept alive on a thread of its own, seen through a pipe."""

    def __init__(self, conninfo: str) -> None:
        """Start listening at once (the first poke comes when the connection is up)."""
        self._conninfo = conninfo
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._stop_read, self._stop_write = os.pipe()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="durable-listen", daemon=True)
        self._thread.start()

    @property
    def fd(self) -> int:
        """The fd that becomes readable when a notification came (or a reconnect happened)."""
        return self._read

    def drain(self) -> None:
        """Consume the pokes so far."""
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._read, 4096):
                pass

    def close(self) -> None:
        """Stop the thread and close everything."""
        self._closing = True
        with contextlib.suppress(OSError):
            os.write(self._stop_write, b"x")
        self._thread.join(5)
        for fd in (self._read, self._write, self._stop_read, self._stop_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _poke(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # a full pipe is poked already
            os.write(self._write, b"!")

    def _run(self) -> None:
        backoff = Backoff(None, first_s=0.1, max_s=2.0)
        while True:
            try:
                con = connect(self._conninfo)
            except Exception:  # whatever it was, listening must go on
                if self._stopping(backoff):
                    return
                continue
            backoff = Backoff(None, first_s=0.1, max_s=2.0)
            try:
                con.execute(f"LISTEN {CHANNEL}")
                self._poke()
                if self._listen(con):
                    return
            except Exception:  # lost (or worse): connect again, unless the store is closing
                if self._closing:
                    return
            finally:
                with contextlib.suppress(Exception):
                    con.close()
            if self._stopping(backoff):
                return

    def _stopping(self, backoff: Backoff) -> bool:
        """Wait before the next try; True when asked to stop meanwhile (or the store is gone)."""
        try:
            ready, _, _ = select.select([self._stop_read], [], [], backoff.delay())
        except (OSError, ValueError):  # our pipe is closed: the store is gone
            return True
        return bool(ready) or self._closing

    def _listen(self, con: psycopg.Connection) -> bool:
        """Pass notifications on until the connection is lost (False) or we stop (True)."""
        sock, pgconn = con.fileno(), con.pgconn
        while True:
            ready, _, _ = select.select([sock, self._stop_read], [], [], _PROBE_S)
            if self._stop_read in ready:
                return True
            if not ready:
                con.execute("SELECT 1")  # a probe: raises when the peer is gone
                self._poke()  # (the probe may have swallowed a notification)
                continue
            pgconn.consume_input()  # raises when the connection was closed
            came = False
            while pgconn.notifies() is not None:
                came = True
            if came:
                self._poke()
