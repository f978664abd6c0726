"""The loaded functions, as one immutable snapshot (hot reload swaps the whole thing)."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from ..errors import FunctionIdClashError
from ..sdk import Function

__all__ = ["Registry"]


class Registry:
    """Functions by id and by trigger, plus the files they came from."""

    def __init__(self, functions: Iterable[Function] = (), files: Iterable[str] = ()) -> None:
        """Index `functions`; two with one id is a FunctionIdClashError naming both files."""
        by_id: dict[str, Function] = {}
        by_trigger: dict[str, list[Function]] = {}
        for fn in functions:
            other = by_id.get(fn.id)
            if other is not None and other is not fn:
                raise FunctionIdClashError(
                    f"function id {fn.id!r} is defined twice: in {other.source} and in {fn.source}",
                    file=fn.source,
                )
            by_id[fn.id] = fn
            for name in fn.triggers:
                by_trigger.setdefault(name, []).append(fn)
        self.functions = MappingProxyType(by_id)
        self._by_trigger = {k: tuple(v) for k, v in by_trigger.items()}
        self.files = tuple(files)

    def get(self, function_id: str) -> Function | None:
        """A function by id."""
        return self.functions.get(function_id)

    def for_event(self, name: str) -> tuple[Function, ...]:
        """The functions an event of this name triggers."""
        return self._by_trigger.get(name, ())

    def __len__(self) -> int:
        return len(self.functions)

    def __iter__(self):
        return iter(self.functions.values())
