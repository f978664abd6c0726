"""A virtual list: renders only the rows on screen, with a keyboard/mouse cursor.

Subclasses say how many rows there are and how to draw one; the list never builds widgets per
row, so it stays cheap with thousands of rows and live updates.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..format import ICONS

__all__ = ["STATUS_CLASSES", "RowList"]

STATUS_CLASSES = {f"status--{s}" for s in ICONS}


class RowList(ScrollView, can_focus=True):
    """Rows drawn on demand; `cursor` is the highlighted row index."""

    # priority: the app runs them as the key arrives, before offering it to the focused widget
    # and back up through the screen (three more hops, each of which can wait behind a repaint
    # of the screen while a busy runner changes it)
    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, priority=True),
        Binding("down,j", "cursor_down", "Down", show=False, priority=True),
        Binding("pageup", "page_up", "Page up", show=False, priority=True),
        Binding("pagedown", "page_down", "Page down", show=False, priority=True),
        Binding("home", "first", "First", show=False, priority=True),
        Binding("end", "last", "Last", show=False, priority=True),
    ]
    COMPONENT_CLASSES = {
        "row-list--cursor",
        "row-list--cursor-blurred",
        "row-list--muted",
        "row-list--accent",
        *STATUS_CLASSES,
    }

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    empty_text = ""

    def __init__(self, **kwargs: Any) -> None:
        """A list with no rows yet."""
        super().__init__(**kwargs)
        self._strips: LRUCache[Hashable, Strip] = LRUCache(1024)

    # -- what subclasses provide ------------------------------------------------------------
    def row_count(self) -> int:
        """How many rows there are now."""
        return 0

    def render_row(self, index: int, width: int) -> Text:
        """Row `index` as text, at most `width` cells."""
        return Text()

    def cursor_moved(self, index: int) -> None:
        """Called after the cursor lands on `index` (post a message from here)."""

    def row_key(self, index: int) -> Hashable | None:
        """What row `index` shows, when that alone decides its look (cached); None: don't cache."""
        return None

    # -- helpers for subclasses -------------------------------------------------------------
    def style_for(self, name: str) -> Style:
        """The rich style of a component class, e.g. `status--failed`."""
        return self.get_component_rich_style(name, partial=True)

    def rows_changed(self) -> None:
        """Re-measure and redraw after the rows changed."""
        count = self.row_count()
        self.virtual_size = Size(self.scrollable_content_region.width, count)
        if count and self.cursor >= count:
            self.set_cursor(count - 1, notify=False)
        self.refresh()

    def set_cursor(self, index: int, *, notify: bool = True, scroll: bool = True) -> None:
        """Move the cursor without the usual message when `notify` is False."""
        count = self.row_count()
        index = max(0, min(index, count - 1)) if count else 0
        old = self.cursor
        self.set_reactive(RowList.cursor, index)
        if scroll:
            self._scroll_to_cursor()
        if index != old:  # a live list keeps its cursor through every update: no redraw then
            self.refresh_line(old)
            self.refresh_line(index)
        if notify and count:
            self.cursor_moved(index)

    # -- cursor -----------------------------------------------------------------------------
    def watch_cursor(self, old: int, index: int) -> None:
        count = self.row_count()
        if count and not 0 <= index < count:
            self.cursor = max(0, min(index, count - 1))
            return
        self._scroll_to_cursor()
        # the two rows the cursor left and reached, not the whole list (a scroll redraws what
        # it must by itself): a key press is answered on the loop that redraws it
        self.refresh_line(old)
        self.refresh_line(index)
        if count:
            self.cursor_moved(index)

    def _scroll_to_cursor(self) -> None:
        if self.size.height:
            self.scroll_to_region(
                Region(0, self.cursor, 1, 1), animate=False, force=True, immediate=True
            )

    def action_cursor_up(self) -> None:
        """Up one row."""
        if self.cursor > 0:
            self.cursor -= 1

    def action_cursor_down(self) -> None:
        """Down one row."""
        if self.cursor < self.row_count() - 1:
            self.cursor += 1

    def action_page_up(self) -> None:
        """Up one screen."""
        self.cursor = max(0, self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        """Down one screen."""
        step = max(1, self.scrollable_content_region.height - 1)
        self.cursor = min(max(0, self.row_count() - 1), self.cursor + step)

    def action_first(self) -> None:
        """To the first row."""
        self.cursor = 0

    def action_last(self) -> None:
        """To the last row."""
        self.cursor = max(0, self.row_count() - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = offset.y + round(self.scroll_offset.y)
        if 0 <= index < self.row_count():
            self.cursor = index

    def on_resize(self, event: events.Resize) -> None:
        self.rows_changed()

    def on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        index = y + round(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= self.row_count() or width <= 0:
            if index == 0 and self.empty_text and width > 0:
                hint = Text(self.empty_text, style=self.style_for("row-list--muted"))
                hint.truncate(width, overflow="ellipsis", pad=True)
                return Strip(list(hint.render(self.app.console, end="")), width).apply_style(base)
            return Strip.blank(width, base)
        cursor = index == self.cursor
        key = self.row_key(index)
        if key is not None:
            key = (key, width, cursor and self.has_focus, cursor, base)
            cached = self._strips.get(key)
            if cached is not None:
                return cached
        text = self.render_row(index, width)
        text.truncate(width, overflow="ellipsis", pad=True)
        if cursor:
            name = "row-list--cursor" if self.has_focus else "row-list--cursor-blurred"
            text.stylize_before(self.style_for(name))
        segments = list(text.render(self.app.console, end=""))
        strip = Strip(segments, width).apply_style(base)
        if key is not None:
            self._strips[key] = strip
        return strip
