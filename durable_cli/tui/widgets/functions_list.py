"""The loaded functions: id, triggers, source file, run count and step-mode flag."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..data import FunctionInfo

__all__ = ["ALL", "FunctionsList"]

ALL = "@all"


class FunctionsList(OptionList):
    """Choose a function to filter the runs by (or all of them)."""

    COMPONENT_CLASSES = {"functions-list--muted", "functions-list--warning"}

    class Chosen(Message):
        """The user picked a function (None: all functions)."""

        def __init__(self, function_id: str | None) -> None:
            """Carry the function id."""
            super().__init__()
            self.function_id = function_id

    def __init__(self, **kwargs: object) -> None:
        """Start empty; `show` fills it."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.infos: list[FunctionInfo] = []

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
        muted = self.get_component_rich_style("functions-list--muted", partial=True)
        warn = self.get_component_rich_style("functions-list--warning", partial=True)
        total = sum(i.runs for i in infos)
        options = [Option(Text.assemble("All functions ", (f"{total} runs", muted)), id=ALL)]
        for info in infos:
            prompt = Text(no_wrap=True, overflow="ellipsis")
            prompt.append(info.id, "bold")
            prompt.append(f"  {info.runs} run{'s' if info.runs != 1 else ''}", muted)
            if info.step_mode:
                prompt.append("  ‖ step mode", warn)
            prompt.append("\n  ")
            prompt.append(", ".join(info.triggers) or "(no trigger)")
            prompt.append(f"  {info.file}", muted)
            options.append(Option(prompt, id=info.id))
        self.set_options(options)
        ids = [o.id for o in options]
        self.highlighted = ids.index(keep) if keep in ids else 0

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        option_id = message.option.id
        self.post_message(self.Chosen(None if option_id == ALL else option_id))
