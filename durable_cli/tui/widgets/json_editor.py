"""A TextArea for JSON, highlighted without tree-sitter (so it looks the same everywhere)."""

from __future__ import annotations

import json
import re
from typing import Any

from textual.widgets import TextArea

__all__ = ["JsonEditor", "parse_object"]

_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*"?)'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<boolean>\btrue\b|\bfalse\b)"
    r"|(?P<null>\bnull\b)"
    r"|(?P<bracket>[\[\]{}])"
    r"|(?P<delimiter>[,:])"
)
_KEY_AFTER = re.compile(r"\s*:")
_NAMES = {
    "number": "number",
    "boolean": "boolean",
    "null": "json.null",
    "bracket": "punctuation.bracket",
    "delimiter": "punctuation.delimiter",
}


def parse_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Parse `text` as a JSON object: (value, None) or (None, a one-line reason with position)."""
    if not text.strip():
        return {}, None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if not isinstance(value, dict):
        return None, f"event data must be a JSON object, not {type(value).__name__}"
    return value, None


def highlight_line(line: str) -> list[tuple[int, int, str]]:
    """(start byte, end byte, highlight name) for the JSON tokens on one line."""
    out: list[tuple[int, int, str]] = []
    for match in _TOKEN.finditer(line):
        kind = match.lastgroup or ""
        start, end = match.span()
        if kind == "string":
            name = "json.label" if _KEY_AFTER.match(line, end) else "string"
        else:
            name = _NAMES[kind]
        out.append((len(line[:start].encode()), len(line[:end].encode()), name))
    return out


class JsonEditor(TextArea):
    """Edit a JSON object, with syntax colours and bracket matching."""

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        """A code-editor style TextArea (line numbers, soft tabs)."""
        super().__init__(
            text,
            soft_wrap=False,
            tab_behavior="focus",
            show_line_numbers=True,
            **kwargs,
        )
        self.indent_width = 2

    def _build_highlight_map(self) -> None:
        # TextArea highlights through tree-sitter when a language is set; JSON is simple enough
        # to tokenize per line, which keeps colours identical with or without tree-sitter.
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        for row in range(self.document.line_count):
            spans = highlight_line(self.document.get_line(row))
            if spans:
                highlights[row].extend(spans)

    def parse(self) -> tuple[dict[str, Any] | None, str | None]:
        """The text as a JSON object, or the reason it is not one."""
        return parse_object(self.text)
