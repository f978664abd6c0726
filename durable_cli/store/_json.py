"""Strict JSON, the journal's only value format (json alone: `durable send` imports this)."""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing is a slow import for `durable send`; annotations are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = ["dumps", "loads"]

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
loads = json.loads


def _unsupported(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# the C encoder `_encoder.encode` builds on every call, built once (every journal write encodes a
# record or two, and building the encoder is a good part of encoding a small one); without the
# circular-reference bookkeeping, which can't be shared between threads: a cycle ends in
# RecursionError, turned into a ValueError
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_encode = _c_encoder and _c_encoder(
    None, _unsupported, json.encoder.encode_basestring, None, ":", ",", False, False, False
)


def dumps(value: Any) -> str:
    """Strict JSON text (no NaN/Infinity, which other JSON readers reject)."""
    if _encode is None:  # an interpreter without the C encoder
        return _encoder.encode(value)
    try:
        return "".join(_encode(value, 0))
    except RecursionError:
        raise ValueError("Circular reference detected (or nested too deep)") from None
