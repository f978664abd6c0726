"""Turning exceptions into journal records and back."""

from __future__ import annotations

import traceback
from typing import Any

from ..errors import StepError

__all__ = ["describe_error"]


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
        "traceback": "".join(traceback.format_exception(exc)),
    }
