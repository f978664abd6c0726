"""Pick a JSON file to load into the event editor: type a path (with completion) or browse."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, DirectoryTree, Input, Label, Static

__all__ = ["FilePickerScreen", "PathSuggester"]


class PathSuggester(Suggester):
    """Completes the last part of a path from the folder's entries."""

    def __init__(self) -> None:
        """Paths are case-sensitive; don't cache (the folder may change)."""
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        """The first entry that extends `value`."""
        folder, _, stem = value.rpartition("/")
        base = folder or "."
        try:
            names = os.listdir(os.path.expanduser(base))
        except OSError:
            return None
        # the shortest match first: "doc" suggests doc.json before doc-old.json
        for name in sorted(names, key=lambda n: (len(n), n)):
            if name.startswith(stem) and name != stem and not name.startswith("."):
                full = f"{folder}/{name}" if folder else name
                return full + ("/" if os.path.isdir(os.path.expanduser(full)) else "")
        return None


class JsonTree(DirectoryTree):
    """Folders and .json files only."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        """Hide dot-files and anything that can't hold event data."""
        return [
            p
            for p in paths
            if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() == ".json")
        ]


class FilePickerScreen(ModalScreen[str | None]):
    """Returns the chosen path, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", priority=True)]  # whatever has focus

    def __init__(self, start: str = ".") -> None:
        """Browse from `start`."""
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        """Path input over a folder tree."""
        with Vertical(id="picker-dialog", classes="dialog") as box:
            box.border_title = "Load event data from a file"
            yield Label("Path")
            yield Input(
                self.start.rstrip("/") + "/" if self.start != "." else "",
                placeholder="path/to/event.json",
                suggester=PathSuggester(),
                id="path",
                compact=True,
                select_on_focus=False,
            )
            yield Static("", id="picker-error", classes="error-line")
            yield JsonTree(self.start, id="tree")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Load", id="load", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def _choose(self, path: str) -> None:
        path = os.path.expanduser(path.strip())
        if not path:
            return
        if not os.path.isfile(path):
            self.query_one("#picker-error", Static).update(f"no such file: {path}")
            return
        self.dismiss(path)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._choose(event.value)

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(str(event.path))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "load":
            self._choose(self.query_one("#path", Input).value)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        """Close without a file."""
        self.dismiss(None)
