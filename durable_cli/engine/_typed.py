"""Typed event data: `@durable.function(..., event_type=Model)` for runs and for `durable send`.

A run's handler gets `event.data` built as the function's event type; data that does not fit
fails the run at once. `durable send` checks the same before queueing, when it can load the
workflow files that declare an event type (see `check_before_send`).
"""

from __future__ import annotations

import os

from ..errors import InputError, LoadError

TYPE_CHECKING = False  # `durable send` imports this module, and typing is a slow import
if TYPE_CHECKING:
    from typing import Any

    from ..sdk import Event, Function

__all__ = [
    "check_before_send",
    "event_data",
    "mentions_event_type",
    "typed_event",
    "validate_event",
]

_MARK = b"event_type"  # a workflow file that declares an event type names the option


def event_data(fn: Function, data: Any) -> Any:
    """`data` built as `fn`'s event type; InputError with the validation message if not."""
    from ..sdk._typed import type_codec

    codec = type_codec(fn.event_type)
    if codec is None:
        return data
    try:
        return codec.decode(data)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"event data for {fn.id!r} is not a valid {codec.name}: {exc}".replace("\n", " ")
        ) from None


def typed_event(fn: Function, event: Event) -> Event:
    """The event a handler of `fn` gets: its data as the function's event type, if it has one."""
    if fn.event_type is None:
        return event
    from dataclasses import replace  # here: `durable send` imports this module, not dataclasses

    return replace(event, data=event_data(fn, event.data))


def validate_event(registry: Any, name: str, data: Any) -> None:
    """InputError when a function that `name` triggers declares an event type `data` misses."""
    for fn in registry.for_event(name):
        if fn.event_type is not None:
            event_data(fn, data)


def check_before_send(paths: list[str], name: str, data: Any) -> None:
    """`durable send`'s check: load the workflow files under `paths` and validate `data`.

    Files are imported only when one of them names `event_type`: importing workflows (and
    the loader, and the sdk) costs a sender far more than reading them, and an untyped project
    must keep sending fast. Files that fail to load are skipped: the runner reports them, and
    checks each run's data anyway.
    """
    if not mentions_event_type(paths):
        return
    from ._loader import load_paths

    try:
        registry = load_paths(paths)
    except (LoadError, OSError):
        return
    validate_event(registry, name, data)


def mentions_event_type(paths: list[str]) -> bool:
    """Whether any .py file under `paths` names `event_type` (read, not imported)."""
    return any(_mentions(path) for path in _python_files(paths))


def _python_files(paths: list[str]) -> Any:
    """Every .py file under `paths`: a superset of what the loader imports (it skips some
    folders), found without importing the loader."""
    for path in paths:
        if os.path.isfile(path):
            yield path
        for root, _, files in os.walk(path):  # nothing for a file or a missing path
            yield from (os.path.join(root, f) for f in files if f.endswith(".py"))


def _mentions(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return _MARK in fh.read()
    except OSError:
        return False
