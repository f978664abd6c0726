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
    # user-facing names drop the `durable_cli.errors.` prefix: users import them from durable_cli
    name = name.removeprefix("durable_cli.errors.")
    return {
        "type": name,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }
