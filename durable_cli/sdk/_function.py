"""The `@durable.function` decorator and the options it records."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ._typed import type_codec

__all__ = ["Backoff", "Function", "FunctionOptions", "function"]

Backoff = float | int | Callable[[int], float] | None

_DEFAULT_RETRIES = 4


@dataclass(frozen=True)
class FunctionOptions:
    """Flow control and lifecycle options, normalised (seconds as floats, keys as paths)."""

    cron: str | None = None
    on_failure: Callable[..., Any] | None = None
    cancel_on: tuple[dict[str, Any], ...] = ()
    idempotency: str | None = None
    concurrency: dict[str, Any] | None = None
    throttle: dict[str, Any] | None = None
    rate_limit: dict[str, Any] | None = None
    debounce: dict[str, Any] | None = None
    timeouts: dict[str, float] = field(default_factory=dict)
    priority: int | Callable[[Any], int] | None = None


@dataclass(eq=False)
class Function:
    """A decorated workflow function: the handler and its options."""

    id: str
    triggers: tuple[str, ...]
    handler: Callable[..., Any]
    retries: int = _DEFAULT_RETRIES
    backoff: Backoff = None
    is_async: bool = False
    source: str = ""
    options: FunctionOptions = field(default_factory=FunctionOptions)
    event_type: Any = None  # `event.data` is built as this type (a model, a dataclass)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the handler directly (no journal): handy in a REPL."""
        return self.handler(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<durable function {self.id!r} triggers={list(self.triggers)}>"


def _triggers(trigger: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if trigger is None:
        return ()
    if isinstance(trigger, str):
        return (trigger,)
    names = tuple(trigger)
    if not all(isinstance(t, str) and t for t in names):
        raise TypeError("trigger must be an event name or a list of event names")
    return names


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise TypeError(f"{what} must be a positive number of seconds or a timedelta")
    return float(value)


def _path(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.startswith("event."):
        raise TypeError(f"{what} must be a path into the event, like 'event.data.user_id'")
    return value


def _limit(value: Any, what: str, *, period: bool | int) -> dict[str, Any]:
    """`N` or `{"limit": N, "period": s, "key": "event.data.x"}` (period only where it applies)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"limit": value}
    if not isinstance(value, dict) or not isinstance(value.get("limit"), int) or value["limit"] < 1:
        raise TypeError(f"{what} must be a whole number >= 1 or a dict with 'limit'")
    out: dict[str, Any] = {"limit": value["limit"], "key": None}
    if value.get("key") is not None:
        out["key"] = _path(value["key"], f"{what} key")
    if period:
        out["period"] = _seconds(value.get("period"), f"{what} period")
    unknown = set(value) - {"limit", "key", "period"}
    if unknown:
        raise TypeError(f"{what}: unknown option(s) {sorted(unknown)}")
    return out


def _options(
    cron: str | None,
    on_failure: Callable[..., Any] | None,
    cancel_on: Any,
    idempotency: str | None,
    concurrency: Any,
    throttle: Any,
    rate_limit: Any,
    debounce: Any,
    timeouts: Any,
    priority: Any,
) -> FunctionOptions:
    if cron is not None:
        from croniter import croniter  # here: only cron functions need it

        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise TypeError(f"cron {cron!r} is not a valid cron expression")
    if on_failure is not None and not callable(on_failure):
        raise TypeError("on_failure must be a handler (event, step)")
    cancels = []
    for entry in [cancel_on] if isinstance(cancel_on, dict | str) else list(cancel_on or ()):
        entry = {"event": entry} if isinstance(entry, str) else dict(entry)
        if not isinstance(entry.get("event"), str) or not entry["event"]:
            raise TypeError("cancel_on entries need an 'event' name")
        match = entry.get("match")
        if match is not None and not isinstance(match, str):
            raise TypeError("cancel_on 'match' must be a path like 'data.order_id'")
        cancels.append({"event": entry["event"], "match": match})
    deb = None
    if debounce is not None:
        raw = debounce if isinstance(debounce, dict) else {"period": debounce}
        deb = {"period": _seconds(raw.get("period"), "debounce period"), "key": None}
        if raw.get("key") is not None:
            deb["key"] = _path(raw["key"], "debounce key")
    outs: dict[str, float] = {}
    for name, value in dict(timeouts or {}).items():
        if name not in ("start", "finish"):
            raise TypeError("timeouts takes 'start' and/or 'finish'")
        outs[name] = _seconds(value, f"timeouts[{name!r}]")
    if (
        priority is not None
        and not callable(priority)
        and (isinstance(priority, bool) or not isinstance(priority, int))
    ):
        raise TypeError("priority must be a whole number or a callable event -> number")
    return FunctionOptions(
        cron=cron,
        on_failure=on_failure,
        cancel_on=tuple(cancels),
        idempotency=None if idempotency is None else _path(idempotency, "idempotency"),
        concurrency=None if concurrency is None else _limit(concurrency, "concurrency", period=0),
        throttle=None if throttle is None else _limit(throttle, "throttle", period=True),
        rate_limit=None if rate_limit is None else _limit(rate_limit, "rate_limit", period=True),
        debounce=deb,
        timeouts=outs,
        priority=priority,
    )


def function(
    *,
    id: str,
    trigger: str | list[str] | tuple[str, ...] | None = None,
    retries: int = _DEFAULT_RETRIES,
    backoff: Backoff = None,
    cron: str | None = None,
    on_failure: Callable[..., Any] | None = None,
    cancel_on: Any = None,
    idempotency: str | None = None,
    concurrency: Any = None,
    throttle: Any = None,
    rate_limit: Any = None,
    debounce: Any = None,
    timeouts: dict[str, Any] | None = None,
    priority: int | Callable[[Any], int] | None = None,
    event_type: Any = None,
) -> Callable[[Callable[..., Any]], Function]:
    """Make a handler `(event, step)` a durable function triggered by `trigger` and/or `cron`.

    `event_type` (a pydantic model, a dataclass or a container of them): the handler's
    `event.data` is that type; data that does not validate fails the run at once."""
    if not isinstance(id, str) or not id or "/" in id:
        raise TypeError("function id must be a non-empty string without '/'")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise TypeError("retries must be a whole number >= 0")
    if backoff is not None and not callable(backoff) and not isinstance(backoff, int | float):
        raise TypeError("backoff must be seconds or a callable attempt -> seconds")
    triggers = _triggers(trigger)
    if event_type is not None and type_codec(event_type) is None:
        raise TypeError("event_type must be a pydantic model, a dataclass or a container of them")
    options = _options(
        cron,
        on_failure,
        cancel_on,
        idempotency,
        concurrency,
        throttle,
        rate_limit,
        debounce,
        timeouts,
        priority,
    )

    def decorate(handler: Callable[..., Any]) -> Function:
        if not callable(handler):
            raise TypeError("@durable.function decorates a handler (event, step)")
        return Function(
            id=id,
            triggers=triggers,
            handler=handler,
            retries=retries,
            backoff=backoff,
            is_async=inspect.iscoroutinefunction(handler),
            source=inspect.getsourcefile(handler) or "",
            options=options,
            event_type=event_type,
        )

    return decorate
