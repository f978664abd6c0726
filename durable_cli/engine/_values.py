"""How values reach the journal and errors reach a log line: shared by invocations and kinds."""

from __future__ import annotations

from typing import Any

from ..store import dumps, loads

__all__ = ["as_stored", "short_error"]

_SCALARS = (int, str, bool, type(None))  # JSON gives these back as they are (not float: NaN)


def as_stored(value: Any) -> Any:
    """`value` as a replay will see it: what its JSON reads back as (tuples become lists…)."""
    return value if type(value) in _SCALARS else loads(dumps(value))


def short_error(err: BaseException) -> str:
    """`Type: message`, for a change's one-line error."""
    return f"{type(err).__name__}: {err}"
