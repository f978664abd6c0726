"""The engine's listener as Textual messages, batched so a busy engine can't flood the UI."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING

from textual.message import Message

from ..engine import Change

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

__all__ = ["EngineBridge"]

_BATCH_S = 0.05  # at most ~20 UI updates a second however fast the engine reports


class EngineBridge:
    """Listener that buffers engine changes and posts them to `target` as one message per batch.

    The engine may call it from its worker threads: the buffer is guarded by a lock and the flush
    is scheduled onto the app's loop, so nothing here touches widgets.
    """

    class Changes(Message):
        """A batch of engine changes, oldest first."""

        def __init__(self, changes: list[Change]) -> None:
            """Carry `changes`."""
            super().__init__()
            self.changes = changes

    def __init__(self, target: MessagePump, loop: asyncio.AbstractEventLoop) -> None:
        """Post batches to `target` (the app), timing batches on `loop` (the app's loop)."""
        self._target = target
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: list[Change] = []
        self._scheduled = False
        self._closed = False

    def __call__(self, change: Change) -> None:
        """Take one change; the first of a batch schedules the flush."""
        with self._lock:
            if self._closed:
                return
            self._pending.append(change)
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop closed under us: the app is gone
            self._loop.call_soon_threadsafe(self._loop.call_later, _BATCH_S, self.flush)

    def flush(self) -> None:
        """Post everything buffered now."""
        with self._lock:
            batch, self._pending = self._pending, []
            self._scheduled = False
            closed = self._closed
        if batch and not closed:
            self._target.post_message(self.Changes(batch))

    def close(self) -> None:
        """Stop posting (the app is going away)."""
        with self._lock:
            self._closed = True
            self._pending = []
