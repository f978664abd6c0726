"""How values reach the journal and errors reach a log line: shared by invocations and kinds."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from ..errors import OutputNotStorableError
from ..sdk._typed import codec_for
from ..store import dumps, loads

__all__ = ["as_stored", "not_storable", "short_error", "stored_result"]

_SCALARS = (int, str, bool, type(None))  # JSON gives these back as they are (not float: NaN)
_UNSEEN = (None,)  # truthy: a callable without `__annotations__` is looked into
_TYPED_HINT = (
    "annotate the callable's return type with it, or pass output_type=, to journal it as JSON"
)


def as_stored(value: Any) -> Any:
    """`value` as a replay will see it: what its JSON reads back as (tuples become lists…)."""
    return value if type(value) in _SCALARS else loads(dumps(value))


def stored_result(handler: Any, value: Any) -> Any:
    """A handler's return value as the run's output: typed by its return annotation, if any."""
    if not getattr(handler, "__annotations__", _UNSEEN):  # unannotated: nothing to resolve
        return as_stored(value)
    codec = codec_for(handler)
    return as_stored(value if codec is None else codec.encode(value))


def not_storable(step_id: str, value: Any, exc: Exception) -> OutputNotStorableError:
    """The error for a value the journal can't keep; a model or dataclass says how it could."""
    detail = str(exc)
    if _is_typed_value(value):
        detail = f"{detail}; {_TYPED_HINT}"
    return OutputNotStorableError(step_id, type(value).__name__, detail)


def short_error(err: BaseException) -> str:
    """`Type: message`, for a change's one-line error."""
    return f"{type(err).__name__}: {err}"


def _is_typed_value(value: Any) -> bool:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return True
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(value, pydantic.BaseModel)
