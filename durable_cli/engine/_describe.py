"""Turning exceptions into journal records and back."""

from __future__ import annotations

import traceback
from typing import Any

from ..errors import StepError

__all__ = ["describe_error"]

_FRAMES: dict[tuple[Any, ...], str] = {}  # a frame's traceback text, by everything it shows
_MAX_FRAMES = 4096


class _Frames(traceback.StackSummary):
    """A stack whose frames are formatted once each: Python 3.11 parses a frame's source
    segment to place its `^^^` markers, which made formatting the dearest part of journaling a
    failed attempt, and a retried step fails at the same frames again and again."""

    def format_frame_summary(self, frame_summary: traceback.FrameSummary) -> str:
        """The frame's text, as the standard library writes it (cached when it has no locals)."""
        fs = frame_summary
        if fs.locals is not None:
            return super().format_frame_summary(fs)
        key = (fs.filename, fs.lineno, fs.end_lineno, fs.colno, fs.end_colno, fs.name, fs.line)
        text = _FRAMES.get(key)
        if text is None:
            text = super().format_frame_summary(fs)
            if len(_FRAMES) < _MAX_FRAMES:
                _FRAMES[key] = text
        return text


def _format(exc: BaseException) -> str:
    """`traceback.format_exception(exc)` as one string, each frame formatted once per process."""
    shown = traceback.TracebackException.from_exception(exc)
    seen, todo = set(), [shown]
    while todo:  # the exception and every one chained to it, each with a stack of its own
        te = todo.pop()
        if id(te) in seen:
            continue
        seen.add(id(te))
        te.stack.__class__ = _Frames
        todo += [t for t in (te.__cause__, te.__context__) if t is not None]
        todo += getattr(te, "exceptions", None) or []
    return "".join(shown.format())


def describe_error(exc: BaseException) -> dict[str, Any]:
    """The JSON record of an error: type, message and traceback text."""
    if isinstance(exc, StepError):
        return {
            "type": "StepError",
            "message": str(exc),
            "traceback": exc.traceback,
            "step": exc.step_id,
            "cause": {"type": exc.error_type, "message": exc.message},
        }
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ in ("builtins", "__main__")
        else (f"{kind.__module__}.{kind.__qualname__}")
    )
    # user-facing names: durable's errors as users import them (`durable_cli`), and workflow
    # modules by their file's name rather than the loader's generated package name
    name = name.removeprefix("durable_cli.errors.")
    if name.startswith("durable_w"):
        name = name.split(".", 1)[1] if "." in name else name
    return {
        "type": name,
        "message": str(exc),
        "traceback": _format(exc),
    }
