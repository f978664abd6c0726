"""Reading the journal off the UI loop: thread workers, one at a time, results as messages.

The engine serves on the app's loop, so a read on it holds up both the keys and the runner.
A widget that needs data asks its `ReadQueue`; the read runs in a Textual thread worker that
posts the result back to the widget as a message (one of the widget's own), and the widget
applies it on the loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial

from textual.message import Message
from textual.widget import Widget

from ..errors import StateError

__all__ = ["Read", "ReadQueue"]

# what a read does on the worker thread: read, and say what to post (None: nothing)
Read = Callable[[], Message | None]


class ReadQueue:
    """Reads for one widget, run in its thread workers one at a time, in the order asked.

    A read may be asked for under a key. While one under that key still waits its turn, asking
    again adds nothing: its `prepare` runs on the UI loop only when its turn comes, so it reads
    what is wanted by then. However often a busy runner asks, every read that starts finishes
    and is posted back, and the newest ask is always read after it.
    """

    def __init__(self, widget: Widget, group: str) -> None:
        """Run the workers on `widget` (they go when it goes), in worker group `group`."""
        self.widget = widget
        self.group = group
        self._waiting: deque[tuple[str | None, Callable[[], Read | None]]] = deque()
        self._running = False

    @property
    def busy(self) -> bool:
        """Whether a read is under way or waiting."""
        return self._running or bool(self._waiting)

    def ask(self, prepare: Callable[[], Read | None], key: str | None = None) -> None:
        """Queue a read; `prepare()` (on the UI loop, at its turn) returns it, or None to skip.

        `key`: asking again under it while this one waits adds nothing (None: always queued).
        """
        if key is not None and any(waiting == key for waiting, _ in self._waiting):
            return
        self._waiting.append((key, prepare))
        if not self._running:
            self._next()

    def _next(self) -> None:
        while self._waiting:
            _, prepare = self._waiting.popleft()
            read = prepare()
            if read is not None:
                self._running = True
                self.widget.run_worker(partial(self._work, read), group=self.group, thread=True)
                return
        self._running = False

    def _work(self, read: Read) -> None:
        """On the worker thread: read and post; then let the next read go (after the post)."""
        try:
            message = read()
        except StateError as exc:  # a journal that can't be read now: say so, keep going
            self.widget.call_later(self._failed, exc)
        else:
            if message is not None:
                self.widget.post_message(message)
        finally:
            self.widget.call_later(self._done)

    def _done(self) -> None:
        self._running = False
        self._next()

    def _failed(self, exc: StateError) -> None:
        self.widget.notify(str(exc), title="Can't read the journal", severity="error")
