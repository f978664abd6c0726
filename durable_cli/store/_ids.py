"""Time-ordered ids: sorting them as strings sorts them by creation time."""

from __future__ import annotations

import os
import threading
import time

__all__ = ["new_id"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, as in ULIDs
_lock = threading.Lock()
_last = [0, 0]


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # ten bits at a time: a busy runner
# makes thousands of ids a second, and a loop over single digits showed in a run's intake


def _b32(n: int, width: int) -> str:
    """`n` as `width` (even) Crockford base32 digits."""
    return "".join([_PAIRS[(n >> shift) & 1023] for shift in range(width * 5 - 10, -1, -10)])


def new_id(now_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, 80 random bits, monotonic in-process."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        if ms <= _last[0]:
            # same millisecond (or clock went back): bump the random part so order holds
            ms = _last[0]
            rand = _last[1] + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1
        _last[0], _last[1] = ms, rand
    return _b32(ms, 10) + _b32(rand, 16)
