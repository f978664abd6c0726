"""Typed values: pydantic models, dataclasses and containers of them, kept in the journal as JSON.

A step callable annotated to return such a type (or `step.run(..., output_type=T)`) has its
result journaled as JSON and handed back as a T, first run and replay alike; an event type
(`@durable.function(..., event_type=T)`) is built from the event's data the same way. A type
holding a pydantic model goes through pydantic (imported then, never before); one made of
dataclasses only goes through the standard library, so the two behave the same whether or not
pydantic happens to be installed. Any other type (`int`, `dict`, `list[str]`…) gets no codec:
the value is the JSON round trip it always was.

Hints are resolved once per callable's code object and per type: an untyped step pays for an
attribute lookup, never for resolving hints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Codec", "codec_for", "plain_data", "type_codec", "type_name"]

_NONE = type(None)
_JSON_LEAVES = (str, int, float, bool, _NONE)
_SEQUENCES = (list, tuple, set, frozenset)
_UNIONS = (typing.Union, types.UnionType)
_ABC_SEQUENCES = {
    "collections.abc.Sequence": list,
    "collections.abc.MutableSequence": list,
    "collections.abc.Iterable": list,
    "collections.abc.Collection": list,
    "collections.abc.Set": set,
    "collections.abc.MutableSet": set,
}
_ABC_MAPPINGS = ("collections.abc.Mapping", "collections.abc.MutableMapping")

# code object -> (the raw return annotation it was resolved from, its codec or None)
_BY_CODE: dict[Any, tuple[Any, Codec | None]] = {}
# type -> its codec or None
_BY_TYPE: dict[Any, Codec | None] = {}


class Codec:
    """Turns a value of one type into JSON and back; `name` is the type as a person writes it."""

    name = ""

    def encode(self, value: Any) -> Any:
        """The value as JSON-able data; TypeError/ValueError when it is not of the type."""
        raise NotImplementedError

    def decode(self, data: Any) -> Any:
        """A value of the type built from JSON data; ValueError says what does not fit."""
        raise NotImplementedError


def codec_for(fn: Callable[..., Any], output_type: Any = None) -> Codec | None:
    """The codec for what `fn` returns: `output_type`, else its return annotation (None: plain)."""
    if output_type is not None:
        return type_codec(output_type)
    if isinstance(fn, type):  # a class called as a step (`step.run("make", Item, ...)`)
        return type_codec(fn)  # returns one of itself; a builtin one raises no AttributeError
    try:
        ret = fn.__annotations__.get("return")
    except AttributeError:  # a partial, a builtin, a callable object
        return _other_callable(fn)
    if ret is None:
        return None
    code = getattr(fn, "__code__", None)
    entry = _BY_CODE.get(code)
    if entry is not None and (entry[0] is ret or entry[0] == ret):
        return entry[1]
    codec = _resolve_return(fn, ret)
    if code is not None:
        _BY_CODE[code] = (ret, codec)
    return codec


def type_codec(tp: Any) -> Codec | None:
    """The codec for a type, or None when the type is plain JSON (no conversion needed)."""
    try:
        return _BY_TYPE[tp]
    except KeyError:
        codec = _build(tp)
        _BY_TYPE[tp] = codec
        return codec
    except TypeError:  # an unhashable type expression: built each time
        return _build(tp)


def plain_data(value: Any) -> Any:
    """A pydantic model, a dataclass or a container of them as JSON-able data; else `value`."""
    if type(value) in _JSON_LEAVES or type(value) is dict:
        return value
    return _Walker(None).encode(value, Any)


def type_name(tp: Any) -> str:
    """A type as a person writes it: `Item`, `list[Item]`, `Item | None`."""
    tp = _unannotated(tp)
    if tp is _NONE or tp is None:
        return "None"
    origin = typing.get_origin(tp)
    if origin in _UNIONS:
        return " | ".join(type_name(a) for a in typing.get_args(tp))
    if origin is not None:
        args = ", ".join("..." if a is Ellipsis else type_name(a) for a in typing.get_args(tp))
        base = getattr(origin, "__name__", None) or str(origin)
        return f"{base}[{args}]" if args else base
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


# -- resolving ------------------------------------------------------------------------------
def _other_callable(fn: Any) -> Codec | None:
    """A partial returns what its function does; other callables need `output_type=`."""
    return codec_for(fn.func) if isinstance(fn, functools.partial) else None


def _resolve_return(fn: Any, ret: Any) -> Codec | None:
    """The return annotation as a type: a string one (`from __future__ import annotations`) is
    evaluated among the function's module globals and the names its closure holds (a class
    defined in a function, which the step callable uses)."""
    if isinstance(ret, str):
        names = dict(getattr(fn, "__globals__", {}))
        code, cells = getattr(fn, "__code__", None), getattr(fn, "__closure__", None)
        for name, cell in zip(code.co_freevars if code else (), cells or (), strict=False):
            with contextlib.suppress(ValueError):  # a cell not filled yet
                names[name] = cell.cell_contents
        try:
            ret = eval(ret, names)
        except Exception:
            return None  # a name only imported for type checkers: treated as untyped
    return type_codec(ret)


def _unannotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_pydantic(tp: Any) -> bool:
    pydantic = sys.modules.get("pydantic")  # no pydantic imported: no class can be a model
    if pydantic is None or not isinstance(tp, type):
        return False
    return issubclass(tp, pydantic.BaseModel) or hasattr(tp, "__pydantic_validator__")


def _kind(tp: Any, seen: set[int]) -> str | None:
    """ "pydantic" when the type holds a pydantic model, "dataclass" when it holds dataclasses
    only, None when it is plain JSON."""
    tp = _unannotated(tp)
    if id(tp) in seen:
        return None
    if _is_pydantic(tp):
        return "pydantic"
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        seen.add(id(tp))
        kinds = {_kind(hint, seen) for hint in _field_hints(tp).values()}
        return "pydantic" if "pydantic" in kinds else "dataclass"
    kinds = {_kind(arg, seen) for arg in typing.get_args(tp) if arg is not Ellipsis}
    if "pydantic" in kinds:
        return "pydantic"
    return "dataclass" if "dataclass" in kinds else None


def _build(tp: Any) -> Codec | None:
    kind = _kind(tp, set())
    if kind is None:
        return None
    if kind == "pydantic":
        return _PydanticCodec(tp)
    return _DataclassCodec(tp)


@functools.cache
def _field_hints(cls: type) -> dict[str, Any]:
    """A dataclass's field types, resolved once (an unresolvable one is taken as it comes)."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception:
        hints = {}
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}


# -- pydantic -------------------------------------------------------------------------------
class _PydanticCodec(Codec):
    """A type holding a pydantic model: pydantic validates and dumps it (JSON mode)."""

    def __init__(self, tp: Any) -> None:
        from pydantic import TypeAdapter

        self.name = type_name(tp)
        self._adapter = TypeAdapter(tp)

    def encode(self, value: Any) -> Any:
        """Validated as the type (a model passes as it is), dumped to JSON-able data."""
        adapter = self._adapter
        try:
            return adapter.dump_python(adapter.validate_python(value), mode="json")
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ValueError(_pydantic_message(exc)) from None

    def decode(self, data: Any) -> Any:
        """Validated from its JSON text, as a value read from JSON (strict models too)."""
        try:
            return self._adapter.validate_json(json.dumps(data))
        except ValueError as exc:
            raise ValueError(_pydantic_message(exc)) from None


def _pydantic_message(exc: Exception) -> str:
    """A validation error on one line: `field: what is wrong; other: …`."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    try:
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or '(value)'}: {e['msg']}"
            for e in errors(include_url=False)
        ]
    except Exception:
        return str(exc).splitlines()[0]
    return "; ".join(parts)


# -- dataclasses, no pydantic --------------------------------------------------------------
class _DataclassCodec(Codec):
    """A type made of dataclasses and containers: walked by its type, standard library only."""

    def __init__(self, tp: Any) -> None:
        self.name = type_name(tp)
        self._tp = tp

    def encode(self, value: Any) -> Any:
        """Fields by name; a value that is not of the type is a TypeError naming where."""
        return _Walker(self.name).encode(value, self._tp)

    def decode(self, data: Any) -> Any:
        """The dataclasses built back from their fields."""
        try:
            return _decode(data, self._tp, self.name)
        except TypeError as exc:  # a constructor's missing or unexpected argument
            raise ValueError(str(exc)) from None


class _Walker:
    """Encodes by a type, or with `Any` by what the value is; `where` names the spot for errors."""

    def __init__(self, where: str | None) -> None:
        self.where = where

    def encode(self, value: Any, tp: Any, where: str = "") -> Any:
        tp = _unannotated(tp)
        here = where or self.where or "value"
        if tp is Any or isinstance(tp, typing.TypeVar) or tp is object:
            return self._any(value, here)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            if not isinstance(value, tp):
                raise TypeError(f"{here}: expected {tp.__name__}, got {type(value).__name__}")
            return self._fields(value, here)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in _UNIONS:
            return _first_fit(self.encode, value, tp, here, TypeError, TypeError)
        if origin in _SEQUENCES or _abc_name(origin) in _ABC_SEQUENCES:
            if not isinstance(value, list | tuple | set | frozenset):
                raise TypeError(f"{here}: expected {type_name(tp)}, got {type(value).__name__}")
            if origin is tuple and args and args[-1] is not Ellipsis:
                _check_length(value, args, here)
                pairs = zip(value, args, strict=True)
                return [self.encode(v, a, f"{here}[{i}]") for i, (v, a) in enumerate(pairs)]
            item = args[0] if args else Any
            return [self.encode(v, item, f"{here}[{i}]") for i, v in enumerate(value)]
        if origin is dict or _abc_name(origin) in _ABC_MAPPINGS:
            if not isinstance(value, Mapping):
                raise TypeError(f"{here}: expected {type_name(tp)}, got {type(value).__name__}")
            item = args[1] if len(args) == 2 else Any
            return {k: self.encode(v, item, f"{here}[{k!r}]") for k, v in value.items()}
        return self._any(value, here)

    def _fields(self, value: Any, here: str) -> dict[str, Any]:
        hints = _field_hints(type(value))
        return {
            name: self.encode(getattr(value, name), hint, f"{here}.{name}")
            for name, hint in hints.items()
        }

    def _any(self, value: Any, here: str) -> Any:
        """A value of no declared type: kept as it is, its dataclasses and models made plain."""
        if type(value) in _JSON_LEAVES:
            return value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self._fields(value, here)
        if _is_pydantic(type(value)):
            return value.model_dump(mode="json")
        if isinstance(value, list | tuple):
            return [self._any(v, f"{here}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self._any(v, f"{here}[{k!r}]") for k, v in value.items()}
        raise TypeError(
            f"{here} is a {type(value).__name__}, which JSON can't hold"
            " (a pydantic model can: it stores one as text)"
        )


def _first_fit(
    convert: Callable[[Any, Any, str], Any],
    value: Any,
    union: Any,
    where: str,
    misfit: type[Exception] | tuple[type[Exception], ...],
    raised: type[Exception],
) -> Any:
    """`convert(value, member, where)` by the first member of `union` it fits (None by an
    Optional's None); when none fits, `raised` with every member's reason."""
    args = typing.get_args(union)
    if value is None and _NONE in args:
        return None
    errors = []
    for arg in args:
        if arg is _NONE:
            continue
        try:
            return convert(value, arg, where)
        except misfit as exc:
            errors.append(str(exc))
    raise raised("; ".join(errors) or f"{where}: does not fit {type_name(union)}")


def _check_length(items: Any, args: tuple[Any, ...], where: str) -> None:
    if len(items) != len(args):
        raise TypeError(f"{where}: expected {len(args)} items, got {len(items)}")


def _abc_name(origin: Any) -> str:
    return f"{getattr(origin, '__module__', '')}.{getattr(origin, '__qualname__', '')}"


def _decode(data: Any, tp: Any, where: str) -> Any:
    tp = _unannotated(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object for {tp.__name__}, got {data!r}")
        hints = _field_hints(tp)
        known = {f.name for f in dataclasses.fields(tp) if f.init}
        unknown = sorted(set(data) - set(hints))
        if unknown:
            raise ValueError(f"{where}: {tp.__name__} has no field {', '.join(unknown)}")
        kwargs = {
            name: _decode(value, hints[name], f"{where}.{name}")
            for name, value in data.items()
            if name in known
        }
        return tp(**kwargs)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in _UNIONS:
        return _first_fit(_decode, data, tp, where, (TypeError, ValueError), ValueError)
    if origin in _SEQUENCES or _abc_name(origin) in _ABC_SEQUENCES:
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list for {type_name(tp)}, got {data!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            _check_length(data, args, where)
            pairs = zip(data, args, strict=True)
            return tuple(_decode(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(pairs))
        item = args[0] if args else Any
        items = [_decode(v, item, f"{where}[{i}]") for i, v in enumerate(data)]
        made = origin if origin in _SEQUENCES else _ABC_SEQUENCES[_abc_name(origin)]
        return items if made is list else made(items)
    if origin is dict or _abc_name(origin) in _ABC_MAPPINGS:
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object for {type_name(tp)}, got {data!r}")
        item = args[1] if len(args) == 2 else Any
        return {k: _decode(v, item, f"{where}[{k!r}]") for k, v in data.items()}
    return data
