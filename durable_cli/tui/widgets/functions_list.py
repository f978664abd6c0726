"""The loaded functions: id, triggers, source file, run count, step-mode flag and the injected
failures still pending for their runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..data import FunctionInfo, Journal
from ..reads import ReadQueue

if TYPE_CHECKING:
    from ...engine import PendingFailure

__all__ = ["ALL", "FunctionsList"]

ALL = "@all"


class FunctionsList(OptionList):
    """Choose a function to filter the runs by (or all of them).

    `reload` reads the functions' facts in a worker; they show when `Loaded` comes back.
    """

    COMPONENT_CLASSES = {"functions-list--muted", "functions-list--warning"}

    class Chosen(Message):
        """The user picked a function (None: all functions)."""

        def __init__(self, function_id: str | None) -> None:
            """Carry the function id."""
            super().__init__()
            self.function_id = function_id

    class Loaded(Message):
        """The loaded functions' facts were read."""

        def __init__(self, infos: list[FunctionInfo]) -> None:
            """Carry them."""
            super().__init__()
            self.infos = infos

    def __init__(self, journal: Journal, **kwargs: object) -> None:
        """Start empty; `reload` fills it from `journal`."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.journal = journal
        self.infos: list[FunctionInfo] = []
        self._failures_seen: list[PendingFailure] | None = None
        self._reads = ReadQueue(self, "functions")

    @property
    def reading(self) -> bool:
        """Whether a read of the journal is under way or waiting."""
        return self._reads.busy

    def reload(self) -> None:
        """Read the functions' facts again (run counts, step mode, pending failures)."""
        self._reads.ask(lambda: self._read, "functions")

    def _read(self) -> Message:
        """On a worker thread."""
        return self.Loaded(self.journal.functions())

    def on_functions_list_loaded(self, message: FunctionsList.Loaded) -> None:
        message.stop()
        self.show(message.infos)

    def step_mode(self, function_id: str) -> bool:
        """Whether new runs of `function_id` start in step mode, as last read."""
        return any(info.step_mode for info in self.infos if info.id == function_id)

    @property
    def highlighted_function(self) -> str | None:
        """The function id under the cursor (None on "all")."""
        option = self.highlighted_option
        return None if option is None or option.id == ALL else option.id

    def show(self, infos: list[FunctionInfo]) -> None:
        """Replace the rows, keeping the highlight on the same function."""
        if infos == self.infos and self.option_count:
            return
        keep = self.highlighted_option.id if self.highlighted_option else ALL
        self.infos = infos
        options = self._build_options()
        self.set_options(options)
        ids = [o.id for o in options]
        self.highlighted = ids.index(keep) if keep in ids else 0

    def _build_options(self) -> list[Option]:
        muted = self.get_component_rich_style("functions-list--muted", partial=True)
        warn = self.get_component_rich_style("functions-list--warning", partial=True)
        width = max(10, self.scrollable_content_region.width - 1)
        total = sum(i.runs for i in self.infos)
        options = [
            Option(_fit(Text.assemble("All functions  ", (_runs(total), muted)), width), id=ALL)
        ]
        for info in self.infos:
            head = Text()
            head.append(info.id, "bold")
            count = f"  {_runs(info.runs)}"
            if len(head) + len(count) > width:  # "13 ru…" reads as nothing: the bare number
                count = f"  {info.runs}" if len(head) + len(str(info.runs)) + 2 <= width else ""
            head.append(count, muted)
            if info.step_mode:
                head.append("  ‖ step mode", warn)
            if info.failures:  # on the first line: a short pane may show no more of the row
                head.append(f"  ⚠ failing: {', '.join(f.step for f in info.failures)}", warn)
            sub = Text("  ")
            sub.append(", ".join(info.triggers) or "(no trigger)")
            sub.append(f" · {info.file}", muted)
            lines = [_fit(head, width), _fit(sub, width)]
            if info.failures:  # the mark is words and a glyph, not only a colour
                fails = "; ".join(f"{f.step} {f.remaining}" for f in info.failures)
                lines.append(_fit(Text(f"  injected failure: {fails}", warn), width))
            options.append(Option(Text("\n").join(lines), id=info.id))
        return options

    def failures_changed(self, pending: list[PendingFailure]) -> bool:
        """Whether `pending` differs from what this was last told (True the first time)."""
        changed = pending != self._failures_seen
        self._failures_seen = pending
        return changed

    def on_resize(self) -> None:
        if self.infos:
            keep = self.highlighted
            self.set_options(self._build_options())
            self.highlighted = keep

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        option_id = message.option.id
        self.post_message(self.Chosen(None if option_id == ALL else option_id))


def _runs(n: int) -> str:
    return f"{n} run{'s' if n != 1 else ''}"


def _fit(text: Text, width: int) -> Text:
    text.truncate(width, overflow="ellipsis")
    return text
