"""Strict JSON, the journal's only value format (json alone: `durable send` imports this)."""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing costs `durable send` 20 ms to import; annotations are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = ["dumps", "loads"]

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
loads = json.loads


def dumps(value: Any) -> str:
    """Strict JSON text (no NaN/Infinity, which other JSON readers reject)."""
    return _encoder.encode(value)
