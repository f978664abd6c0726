"""The bottom line: files loaded, the last reload, a load error (file:line), runs in flight."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from ..data import display_path
from ..format import fmt_clock, fmt_duration

__all__ = ["StatusBar"]


class StatusBar(Static):
    """One line of facts about the runner; a load error turns it red without stopping the app."""

    COMPONENT_CLASSES = {"status-bar--muted", "status-bar--error", "status-bar--ok"}

    def __init__(self, **kwargs: Any) -> None:
        """Start with nothing known."""
        super().__init__(**kwargs)
        self.files: list[str] = []
        self.functions = 0
        self.watching = False
        self.last_reload: tuple[int, int | None] | None = None
        self.load_error: dict[str, Any] | None = None
        self.active = 0
        self.engine_error: str | None = None
        self.shared: dict[str, Any] | None = None  # on a database: its name, live workers

    def on_mount(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Render the current facts."""
        st = self.get_component_rich_style
        muted = st("status-bar--muted", partial=True)
        error = st("status-bar--error", partial=True)
        ok = st("status-bar--ok", partial=True)
        if self.engine_error or self.load_error:
            # an error is read to its end: the line wraps (and grows) rather than cut it
            text = Text()
            if self.engine_error:
                text.append(f"✗ runner stopped: {self.engine_error}", error)
            else:
                err = self.load_error or {}
                where = display_path(err.get("file") or "")
                if err.get("line"):
                    where += f":{err['line']}"
                text.append(f"✗ {where} {err.get('message', '')}", error)
                text.append("  (last good code still live)", muted)
            self._show(text, wrapped=True)
            return
        n = len(self.files)
        names = ", ".join(display_path(f) for f in self.files[:2])
        more = f" +{n - 2}" if n > 2 else ""
        text = Text()
        text.append(f"{n} file{'s' if n != 1 else ''}", ok)
        where = len(text)
        text.append(f" · {self.functions} function{'s' if self.functions != 1 else ''}", muted)
        if self.last_reload is not None:
            at, took = self.last_reload
            text.append(f" · reloaded {fmt_clock(at)}", ok)
            if took is not None:
                text.append(f" ({fmt_duration(took)})", muted)
        elif self.watching:
            text.append(" · watching", muted)
        if self.active:
            text.append(f" · {self.active} active", ok)
        self._append_shared(text, muted, ok)
        # the file names are what a narrow terminal goes without first
        files = Text(f" {names}{more}", muted)
        if not self.size.width or len(text) + len(files) <= self.size.width:
            text = text[:where] + files + text[where:]
        self._show(text, wrapped=False)

    def _show(self, text: Text, *, wrapped: bool) -> None:
        # a one-line update needs no new layout (it happens on every run's change); an error
        # wraps (the `-error` class), which changes the bar's height
        relayout = wrapped or self.has_class("-error")
        self.set_class(wrapped, "-error")
        self.update(text, layout=relayout)

    def on_resize(self) -> None:
        self.redraw()

    # -- on a shared database (`durable dev --database-url`) ------------------------------------
    def workers_changed(self, detail: dict[str, Any]) -> None:
        """The database this runner shares, and how many workers are live on it."""
        self.shared = dict(detail)
        self.redraw()

    def _append_shared(self, text: Text, muted: Any, ok: Any) -> None:
        if self.shared is None:
            return
        live = int(self.shared.get("live", 0))
        text.append(f" · {self.shared.get('database', '')}", muted)
        text.append(f" · {live} worker{'s' if live != 1 else ''} live", ok)

    def loaded(self, files: list[str], functions: int) -> None:
        """The registry now live."""
        self.files = list(files)
        self.functions = functions
        self.redraw()

    def reloaded(self, at: int, took: int | None, files: list[str], functions: int) -> None:
        """A reload succeeded: the error (if any) is gone."""
        self.last_reload = (at, took)
        self.load_error = None
        self.loaded(files, functions)

    def failed(self, detail: dict[str, Any], message: str | None) -> None:
        """A reload failed."""
        self.load_error = dict(detail)
        if not self.load_error.get("message"):
            self.load_error["message"] = message or "failed to load"
        self.redraw()
