"""The runs list: newest first, live, filtered, loaded a page at a time as you scroll."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.message import Message
from textual.strip import Strip

from ...engine import ACTIVE_RUN_STATUSES
from ..data import Journal, RunFilter
from ..format import ICONS, fmt_clock, fmt_duration, short_id
from ..reads import Read, ReadQueue
from .row_list import RowList

if TYPE_CHECKING:
    from ...engine import RunRecord

__all__ = ["RunList"]

PAGE = 100
_NAME_MAX = 32  # a longer function name is cut rather than pushing the other columns out
# columns beyond icon, name and id, in the order they join as the list widens: (name, cells)
_OPTIONAL = (("took", 7), ("started", 9), ("word", 10))
_PREFETCH = 20  # rows from the end of what is loaded at which the next page is fetched


class RunList(RowList):
    """Runs newest first. Holds only the pages scrolled to, never every run.

    Every read of the journal runs in a worker: `reload`, `load_more` and `update_runs` ask
    for one, and its result comes back as a `Loaded` or `Updated` message, applied here first
    and then bubbling up to the screen.
    """

    empty_text = "No runs yet: press s to send an event."

    class Highlighted(Message):
        """The cursor moved onto a run."""

        def __init__(self, run_id: str) -> None:
            """Carry the run id."""
            super().__init__()
            self.run_id = run_id

    class Loaded(Message):
        """A page of runs was read: the first of a filter (`before` None), or the next one."""

        def __init__(self, flt: RunFilter, runs: list[RunRecord], before: str | None) -> None:
            """Carry the filter, the page and the run it continues after."""
            super().__init__()
            self.filter = flt
            self.runs = runs
            self.before = before

    class Updated(Message):
        """Changed runs were read again (a run missing from `runs` no longer exists)."""

        def __init__(self, runs: dict[str, RunRecord], asked: list[str]) -> None:
            """Carry the runs read and the ids asked for."""
            super().__init__()
            self.runs = runs
            self.asked = asked

    def __init__(self, journal: Journal, now_ms: Callable[[], int], **kwargs: Any) -> None:
        """List runs `journal` reads; `now_ms` ages runs still going."""
        super().__init__(**kwargs)
        self.journal = journal
        self.now_ms = now_ms
        self.filter = RunFilter()  # what the rows show
        self.asked_filter = self.filter  # what the newest reload asked for
        self.runs: list[RunRecord] = []
        self._pos: dict[str, int] = {}
        self._name_len = 0
        self.more = False
        self._stale: dict[str, None] = {}  # runs changed since they were read, in order
        self._reads = ReadQueue(self, "runs")

    # -- data -------------------------------------------------------------------------------
    @property
    def selected(self) -> RunRecord | None:
        """The run under the cursor."""
        return self.runs[self.cursor] if 0 <= self.cursor < len(self.runs) else None

    @property
    def reading(self) -> bool:
        """Whether a read of the journal is under way or waiting."""
        return self._reads.busy

    def row_count(self) -> int:
        """Rows loaded so far."""
        return len(self.runs)

    def _reindex(self) -> None:
        self._pos = {run.id: i for i, run in enumerate(self.runs)}
        # the name column is as wide as the longest function name loaded, so no column lesser
        # than the name (times, the status word) cuts it (a replay's mark may)
        self._name_len = min(_NAME_MAX, max((len(r.function) for r in self.runs), default=0))

    def reload(self, flt: RunFilter | None = None) -> None:
        """Read the first page again (with a new filter), keeping the cursor on its run."""
        if flt is not None:
            self.asked_filter = flt
        self._reads.ask(lambda: partial(self._read_page, self.asked_filter, None), "first")

    def load_more(self) -> None:
        """Read the next older page, if there is one and the cursor or the view nears it."""
        if self._wants_more():
            self._reads.ask(self._next_page, "more")

    def _wants_more(self) -> bool:
        if not self.more or not self.runs:
            return False
        count = len(self.runs)
        return (
            self.cursor >= count - _PREFETCH
            or round(self.scroll_offset.y) + self.size.height * 2 >= count
        )

    def _next_page(self) -> Read | None:
        # asked again while a page was read: this one may no longer be needed
        if not self._wants_more():
            return None
        return partial(self._read_page, self.filter, self.runs[-1].id)

    def _read_page(self, flt: RunFilter, before: str | None) -> Message:
        """On a worker thread."""
        return self.Loaded(flt, self.journal.page(flt, PAGE, before), before)

    def on_run_list_loaded(self, message: RunList.Loaded) -> None:
        if message.before is not None:
            if message.filter != self.filter:
                message.stop()  # a page of a list no longer shown
                return
            self.more = len(message.runs) == PAGE
            self.runs.extend(run for run in message.runs if run.id not in self._pos)
            self._reindex()
            self.rows_changed()
            self._retitle()
            return
        if message.filter != self.asked_filter:
            message.stop()  # a newer filter is being read
            return
        keep = self.selected.id if self.selected else None
        self.filter = message.filter
        self.runs = message.runs
        self.more = len(self.runs) == PAGE
        self._reindex()
        self.rows_changed()
        self.set_cursor(self._pos.get(keep, 0) if keep else 0)
        self._retitle()

    def update_runs(self, run_ids: Iterable[str]) -> None:
        """Read changed runs again: they are updated, inserted (if they now match) or dropped."""
        self._stale.update(dict.fromkeys(run_ids))
        if self._stale:
            self._reads.ask(self._read_stale, "update")

    def _read_stale(self) -> Read | None:
        # older than the pages loaded: they show up when scrolled to
        oldest = self.runs[-1].id if self.more and self.runs else None
        wanted = [
            run_id
            for run_id in self._stale
            if run_id in self._pos or oldest is None or run_id >= oldest
        ]
        self._stale.clear()
        if not wanted:
            return None
        # one read: a burst of events brings hundreds
        return lambda: self.Updated(self.journal.runs(wanted), wanted)

    def on_run_list_updated(self, message: RunList.Updated) -> None:
        keep = self.selected.id if self.selected else None
        top = round(self.scroll_offset.y)
        removed: set[str] = set()
        added: list[RunRecord] = []
        changed: list[int] = []
        for run_id in message.asked:
            pos = self._pos.get(run_id)
            run = message.runs.get(run_id)
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
        self._retitle()

    def _retitle(self) -> None:
        more = "+" if self.more else ""
        count = len(self.runs)
        title = f"Runs · {self.filter.label()}"
        subtitle = f"{count}{more} run{'s' if count != 1 or more else ''}"
        # setting either redraws the whole list, even to the same text: only when it changes
        if (self.border_title, self.border_subtitle) != (title, subtitle):
            self.border_title, self.border_subtitle = title, subtitle

    def select_run(self, run_id: str) -> bool:
        """Put the cursor on `run_id` if it is listed."""
        pos = self._pos.get(run_id)
        if pos is None:
            return False
        self.set_cursor(pos)
        return True

    def has_active(self) -> bool:
        """Whether a listed run is still going (its duration ticks)."""
        return any(run.status in ACTIVE_RUN_STATUSES for run in self.runs[:200])

    # -- events -----------------------------------------------------------------------------
    def cursor_moved(self, index: int) -> None:
        """Tell the screen, and fetch more rows when near the end."""
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
        if run.status in ACTIVE_RUN_STATUSES:
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
        end = run.ended_at or (None if run.status not in ACTIVE_RUN_STATUSES else self.now_ms())
        return fmt_duration(end - run.started_at) if end else ""


def _name(run: RunRecord) -> str:
    """The function's name as listed (a replay marked)."""
    return ("↺ " if run.replay_of else "") + run.function
