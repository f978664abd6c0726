"""`durable send`'s check of the data against the event type a workflow declares for the event.

The workflow files are those pyproject.toml lists under `[tool.durable] paths`. Reading that
with tomllib imports typing, which costs a send a good part of its time, and most projects declare
no event type at all: so the `[tool.durable]` table's quoted strings are looked at first, and
when each names a file or folder and none of their .py files names `event_type`, that settles
it. Anything less clear (no table header, a string that is no path) goes the long way.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False  # typing is a slow import for `durable send`; annotations are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = ["check_event_types"]

_PYPROJECT = "pyproject.toml"
# patterns, not compiled ones: a send without a pyproject.toml never compiles them
_HEADER = rb"(?m)^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*durable[ \t]*\][ \t]*(#.*)?$"
_NEXT_TABLE = rb"(?m)^[ \t]*\["
_QUOTED = rb'"((?:[^"\\\n]|\\.)*)"|\'([^\'\n]*)\''


def check_event_types(name: str, data: Any) -> None:
    """InputError when `data` does not fit the event type of a function `name` triggers."""
    if _surely_untyped():
        return
    from ..engine._typed import check_before_send
    from ._config import configured_paths

    paths = configured_paths()
    if paths:
        check_before_send(paths, name, data)


def _surely_untyped() -> bool:
    """True when pyproject.toml's durable paths can be seen, without parsing, to declare no
    event type (or when there is no pyproject.toml); False: parse it to know."""
    try:
        with open(_PYPROJECT, "rb") as fh:
            text = fh.read()
    except FileNotFoundError:
        return True
    except OSError:
        return False  # configured_paths says what is wrong with it
    header = re.search(_HEADER, text)
    if header is None:
        return b"durable" not in text  # `tool.durable.paths = …` and other spellings: parse
    table = text[header.end() :]
    following = re.search(_NEXT_TABLE, table)
    if following is not None:
        table = table[: following.start()]
    quoted = re.findall(_QUOTED, table)
    names = [(double or single).decode("utf-8", "replace") for double, single in quoted]
    if not names or not all(os.path.exists(n) for n in names):
        return False
    from ..engine._typed import mentions_event_type

    return not mentions_event_type(names)
