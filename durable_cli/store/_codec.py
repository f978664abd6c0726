"""JSON in, JSON out: the diskcache `Disk` that never pickles."""

from __future__ import annotations

import json
import os
from typing import Any

from diskcache import Disk
from diskcache.core import MODE_PICKLE

from ..errors import StateError

__all__ = ["JSONDisk", "dumps", "loads"]

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
loads = json.loads


def dumps(value: Any) -> str:
    """Strict JSON text (no NaN/Infinity, which other JSON readers reject)."""
    return _encoder.encode(value)


class JSONDisk(Disk):
    """Stores values as UTF-8 JSON; keys must be strings; a pickled value is refused, not loaded."""

    def put(self, key: Any) -> tuple[Any, bool]:
        """Keys are plain strings stored as they are."""
        if type(key) is not str:
            raise TypeError(f"durable store keys are strings, not {type(key).__name__}")
        return key, True

    def store(self, value: Any, read: bool, key: Any = None) -> tuple[int, int, Any, Any]:
        """Encode `value` as JSON bytes (large ones go to a 0600 file, as diskcache does)."""
        return super().store(dumps(value).encode("utf-8"), read, key=key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        """Decode JSON; refuse anything that was pickled (a planted pickle is never loaded)."""
        if mode == MODE_PICKLE:
            raise StateError(f"{self._directory}: found a pickled value; refusing to load it")
        raw = super().fetch(mode, filename, value, read)
        return json.loads(raw)

    def _write(self, full_path: str, iterator: Any, mode: str, encoding: str | None = None) -> int:
        """Write a value file owner-only whatever the umask."""
        os.makedirs(os.path.dirname(full_path), mode=0o700, exist_ok=True)
        fd = os.open(full_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        size = 0
        with open(fd, "wb") as writer:
            for chunk in iterator:
                data = chunk.encode(encoding or "utf-8") if isinstance(chunk, str) else chunk
                size += len(data)
                writer.write(data)
        return size
