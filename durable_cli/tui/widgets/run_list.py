"""The runs list: newest first, live, filtered, loaded a page at a time as you scroll."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.strip import Strip

from ...store import RunRecord, Store
from ..data import RunFilter, page_runs
from ..format import ACTIVE, ICONS, fmt_clock, fmt_duration, short_id
from .row_list import RowList

__all__ = ["RunList"]

PAGE = 100
_NAME_MAX = 32  # a longer function name is cut rather than pushing the other columns out
# columns beyond icon, name and id, in the order they join as the list widens: (name, cells)
_OPTIONAL = (("took", 7), ("started", 9), ("word", 10))
_PREFETCH = 20  # rows from the end of what is loaded at which the next page is fetched


class RunList(RowList):
    """Runs newest first. Holds only the pages scrolled to, never every run."""

    empty_text = "No runs yet: press s to send an event."

    class Highlighted(Message):
        """The cursor moved onto a run."""

        def __init__(self, run_id: str) -> None:
            """Carry the run id."""
            super().__init__()
            self.run_id = run_id

    def __init__(self, store: Store, now_ms: Callable[[], int], **kwargs: Any) -> None:
        """List runs from `store`; `now_ms` ages runs still going."""
        super().__init__(**kwargs)
        self.store = store
        self.now_ms = now_ms
        self.filter = RunFilter()
        self.runs: list[RunRecord] = []
        self._pos: dict[str, int] = {}
        self._name_len = 0
        self.more = False

    # -- data -------------------------------------------------------------------------------
    @property
    def selected(self) -> RunRecord | None:
        """The run under the cursor."""
        return self.runs[self.cursor] if 0 <= self.cursor < len(self.runs) else None

    def row_count(self) -> int:
        """Rows loaded so far."""
        return len(self.runs)

    def _reindex(self) -> None:
        self._pos = {run.id: i for i, run in enumerate(self.runs)}
        # the name column is as wide as the longest function name loaded, so no column lesser
        # than the name (times, the status word) cuts it (a replay's mark may)
        self._name_len = min(_NAME_MAX, max((len(r.function) for r in self.runs), default=0))

    def reload(self, flt: RunFilter | None = None, *, keep: str | None = None) -> None:
        """Load the first page again (with a new filter), keeping the cursor on `keep`."""
        if flt is not None:
            self.filter = flt
        keep = keep or (self.selected.id if self.selected else None)
        self.runs = page_runs(self.store, self.filter, PAGE)
        self.more = len(self.runs) == PAGE
        self._reindex()
        self.rows_changed()
        self.set_cursor(self._pos.get(keep, 0) if keep else 0)

    def load_more(self) -> bool:
        """Append the next older page; False when there is none."""
        if not self.more or not self.runs:
            return False
        page = page_runs(self.store, self.filter, PAGE, before=self.runs[-1].id)
        self.more = len(page) == PAGE
        page = [run for run in page if run.id not in self._pos]
        self.runs.extend(page)
        self._reindex()
        self.rows_changed()
        return bool(page)

    def update_runs(self, run_ids: Iterable[str]) -> None:
        """Re-read changed runs: update, insert (if they now match) or drop them, in place."""
        keep = self.selected.id if self.selected else None
        top = round(self.scroll_offset.y)
        oldest = self.runs[-1].id if self.more and self.runs else None
        removed: set[str] = set()
        added: list[RunRecord] = []
        changed: list[int] = []
        # older than the pages loaded: they show up when scrolled to
        wanted = [
            run_id
            for run_id in dict.fromkeys(run_ids)
            if run_id in self._pos or oldest is None or run_id >= oldest
        ]
        fresh = self.store.get_runs(wanted)  # one read: a burst of events brings hundreds
        for run_id in wanted:
            pos = self._pos.get(run_id)
            run = fresh.get(run_id)
            if run is None:
                continue
            if not self.filter.matches(run):
                if pos is not None:
                    removed.add(run_id)
            elif pos is not None:
                if run != self.runs[pos]:
                    self.runs[pos] = run
                    changed.append(pos)
            else:
                added.append(run)
        if removed or added:
            # keep the rows on screen where they are when rows come and go above them
            first = self.runs[top].id if top < len(self.runs) else ""
            shift = sum(1 for r in added if top and r.id > first)
            shift -= sum(1 for r in self.runs[:top] if r.id in removed)
            self.runs = sorted(
                [r for r in self.runs if r.id not in removed] + added,
                key=lambda r: r.id,
                reverse=True,
            )
            self._reindex()
            self.rows_changed()
            if shift:
                self.scroll_to(y=max(0, top + shift), animate=False, immediate=True)
        else:  # only the rows that changed: a redraw of the whole list is most of a busy frame
            for pos in changed:
                self.refresh_line(pos)
        if keep in self._pos:
            self.set_cursor(self._pos[keep], notify=False, scroll=False)
        elif self.runs:
            self.set_cursor(min(self.cursor, len(self.runs) - 1))

    def select_run(self, run_id: str) -> bool:
        """Put the cursor on `run_id` if it is listed."""
        pos = self._pos.get(run_id)
        if pos is None:
            return False
        self.set_cursor(pos)
        return True

    def has_active(self) -> bool:
        """Whether a listed run is still going (its duration ticks)."""
        return any(run.status in ACTIVE for run in self.runs[:200])

    # -- events -----------------------------------------------------------------------------
    def cursor_moved(self, index: int) -> None:
        """Tell the screen, and fetch more rows when near the end."""
        if index >= len(self.runs) - _PREFETCH:
            self.load_more()
        run = self.selected
        if run is not None:
            self.post_message(self.Highlighted(run.id))

    def render_line(self, y: int) -> Strip:
        """Draw a row; scrolling near the end of what is loaded fetches the next page."""
        if (
            y == 0
            and self.more
            and round(self.scroll_offset.y) + self.size.height * 2 >= len(self.runs)
        ):
            self.call_later(self.load_more)
        return super().render_line(y)

    # -- drawing ----------------------------------------------------------------------------
    def row_key(self, index: int) -> tuple[str, str, int | None, bool, int] | None:
        """Finished runs look the same until they change status; active ones tick."""
        run = self.runs[index]
        if run.status in ACTIVE:
            return None
        return (run.id, run.status, run.ended_at, bool(run.replay_of), self._name_len)

    def render_row(self, index: int, width: int) -> Text:
        """`✓ completed  function        id  started  took` fitted to the width.

        The status icon, the name and the id always show; the name gets room for the longest
        one loaded before the took, started and status-word columns join, in that order.
        """
        run = self.runs[index]
        status_style = self.style_for(f"status--{run.status}")
        muted = self.style_for("row-list--muted")
        fixed = 2 + 9  # icon, id
        extra: set[str] = set()
        for column, cells in _OPTIONAL:
            if width - fixed - cells >= self._name_len:
                fixed += cells
                extra.add(column)
        fn_width = max(6, width - fixed)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(ICONS.get(run.status, "?") + " ", status_style)
        if "word" in extra:
            text.append(f"{run.status:<9} ", status_style)
        name = _name(run)
        name = name if len(name) <= fn_width else name[: fn_width - 1] + "…"
        text.append(f"{name:<{fn_width}}")
        text.append(f" {short_id(run.id)}", muted)
        if "started" in extra:
            text.append(f" {fmt_clock(run.started_at or run.created_at)}", muted)
        if "took" in extra:
            text.append(f" {self._took(run):>6}")
        return text

    def _took(self, run: RunRecord) -> str:
        if run.started_at is None:
            return ""
        end = run.ended_at or (None if run.status not in ACTIVE else self.now_ms())
        return fmt_duration(end - run.started_at) if end else ""


def _name(run: RunRecord) -> str:
    """The function's name as listed (a replay marked)."""
    return ("↺ " if run.replay_of else "") + run.function
