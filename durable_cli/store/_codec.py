"""JSON in, JSON out: the diskcache `Disk` that never pickles."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from typing import Any

from diskcache import Disk
from diskcache.core import MODE_PICKLE, MODE_RAW

from ..errors import StateError
from ._files import doctor_hint
from ._json import dumps, loads

__all__ = ["MODE_RAW", "JSONDisk", "MissingValueFile", "dumps", "loads"]


class MissingValueFile(StateError):
    """A journal row points at a value file that is not there."""

    def __init__(self, directory: str, filename: str) -> None:
        """Name the state dir and the missing file."""
        self.filename = filename
        super().__init__(
            f"{directory}: value file {filename} is missing (the journal row that needs it is"
            f" unreadable); {doctor_hint(directory)}"
        )


class JSONDisk(Disk):
    """Stores values as UTF-8 JSON; keys must be strings; a pickled value is refused, not loaded.

    Values of 64 KiB or more live in their own files, as diskcache does; with `fsync` set
    (durability "full") each such file and its folder reach the disk before the row that names
    it is committed.
    """

    fsync = False

    def put(self, key: Any) -> tuple[Any, bool]:
        """Keys are plain strings stored as they are."""
        if type(key) is not str:
            raise TypeError(f"durable store keys are strings, not {type(key).__name__}")
        return key, True

    def inline(self, value: Any) -> Any:
        """The row value that holds `value`, as `store` makes it; None when it is too large for
        a row (`store` would write a file), so a caller can choose before any file exists."""
        data = dumps(value).encode("utf-8")
        return sqlite3.Binary(data) if len(data) < self.min_file_size else None

    def store(self, value: Any, read: bool, key: Any = None) -> tuple[int, int, Any, Any]:
        """Encode `value` as JSON bytes (large ones go to a 0600 file, as diskcache does)."""
        return super().store(dumps(value).encode("utf-8"), read, key=key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        """Decode JSON; refuse anything that was pickled (a planted pickle is never loaded)."""
        if mode == MODE_PICKLE:
            raise StateError(f"{self._directory}: found a pickled value; refusing to load it")
        try:
            raw = super().fetch(mode, filename, value, read)
        except FileNotFoundError:
            # diskcache reads a missing file as "no such key": that would silently drop an
            # event or a run, so it is an error here
            raise MissingValueFile(self._directory, str(filename)) from None
        except OSError as exc:
            raise StateError(
                f"{self._directory}: can't read value file {filename} ({exc.strerror or exc})"
            ) from None
        try:
            return json.loads(raw)
        except (ValueError, TypeError):
            where = f"value file {filename}" if filename else "a journal value"
            raise StateError(
                f"{self._directory}: {where} is not valid JSON (damaged?);"
                f" {doctor_hint(self._directory)}"
            ) from None

    def _write(self, full_path: str, iterator: Any, mode: str, encoding: str | None = None) -> int:
        """Write a value file owner-only whatever the umask; never leave a partial one."""
        folder = os.path.dirname(full_path)
        for attempt in range(10):
            # both levels (ab/cd/) explicitly: makedirs gives the parents it creates mode 0777
            os.makedirs(os.path.dirname(folder), mode=0o700, exist_ok=True)
            os.makedirs(folder, mode=0o700, exist_ok=True)
            try:
                fd = os.open(full_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileNotFoundError:
                # another process removed the (then empty) folder between makedirs and open
                if attempt == 9:
                    raise
        size = 0
        try:
            with open(fd, "wb") as writer:
                for chunk in iterator:
                    data = chunk.encode(encoding or "utf-8") if isinstance(chunk, str) else chunk
                    size += len(data)
                    writer.write(data)
                if self.fsync:
                    writer.flush()
                    os.fsync(writer.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(full_path)  # e.g. disk full: no half-written value file stays behind
            raise
        if self.fsync:
            # the new name must survive a power cut too: its folder and the folders above it
            # (up to the state dir) may have just been created
            for path in (folder, os.path.dirname(folder), self._directory):
                _fsync_dir(path)
        return size


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
