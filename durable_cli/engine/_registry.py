"""The loaded functions, as one immutable snapshot (hot reload swaps the whole thing)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from types import MappingProxyType

from ..errors import FunctionIdClashError
from ..sdk import Function

FAILED_EVENT = "durable/function.failed"

__all__ = ["FAILED_EVENT", "Registry", "failure_function"]


class Registry:
    """Functions by id and by trigger, plus the files they came from."""

    def __init__(self, functions: Iterable[Function] = (), files: Iterable[str] = ()) -> None:
        """Index `functions`; two with one id is a FunctionIdClashError naming both files."""
        by_id: dict[str, Function] = {}
        by_trigger: dict[str, list[Function]] = {}
        by_cancel: dict[str, list[Function]] = {}
        functions = list(functions)
        # an on_failure handler runs as a function of its own, `<id>-failure`, as in Inngest
        functions += [failure_function(fn) for fn in functions if fn.options.on_failure]
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
            for entry in fn.options.cancel_on:
                by_cancel.setdefault(entry["event"], []).append(fn)
        self.functions = MappingProxyType(by_id)
        self._by_trigger = {k: tuple(v) for k, v in by_trigger.items()}
        self._by_cancel = {k: tuple(v) for k, v in by_cancel.items()}
        self.crons = tuple(fn for fn in by_id.values() if fn.options.cron)
        self.files = tuple(files)

    def get(self, function_id: str) -> Function | None:
        """A function by id."""
        return self.functions.get(function_id)

    def for_event(self, name: str) -> tuple[Function, ...]:
        """The functions an event of this name triggers."""
        return self._by_trigger.get(name, ())

    def cancelled_by(self, name: str) -> tuple[Function, ...]:
        """The functions whose runs an event of this name may cancel."""
        return self._by_cancel.get(name, ())

    @property
    def cancels(self) -> bool:
        """Whether any event may cancel runs at all (mostly none does)."""
        return bool(self._by_cancel)

    def __len__(self) -> int:
        return len(self.functions)

    def __iter__(self):
        return iter(self.functions.values())


def failure_function(fn: Function) -> Function:
    """The function that runs `fn`'s on_failure handler for each failed run of `fn`."""
    handler = fn.options.on_failure
    assert handler is not None
    return Function(
        id=f"{fn.id}-failure",
        triggers=(),
        handler=handler,
        retries=fn.retries,
        backoff=fn.backoff,
        is_async=inspect.iscoroutinefunction(handler),
        source=fn.source,
    )
