"""What `run_function` does to steps: injected failures, stubs and spies, and counting real calls.

It is the engine's step interceptor: before each attempt of a `run` step may call the step's
callable, the engine asks it for a callable to run instead. An injected failure is a callable that
raises, so the exception goes down the same path as one the step raised itself
(`NonRetriableError` stops at once, `RetryAfterError` sets the delay).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InjectedFailure
from ..store import RunRecord

__all__ = ["Interceptor"]

_LOOP_ID = re.compile(r"^(?P<base>.+):\d+$")

# attempt number -> the exception this attempt raises, or None to let it through
_Rule = Callable[[str, int], BaseException | None]


def _exception(value: Any, where: str) -> BaseException | None:
    """An exception instance from an instance, a class, or None."""
    if value is None or isinstance(value, BaseException):
        return value
    if isinstance(value, type) and issubclass(value, BaseException):
        try:
            return value()
        except TypeError as exc:
            raise TypeError(
                f"{where}: can't create {value.__name__}() without arguments ({exc}); "
                "pass an instance instead"
            ) from None
    raise TypeError(f"{where}: expected an exception (or None), got {type(value).__name__}")


def _fail_rule(step_key: str, spec: Any) -> _Rule:
    """Turn one `fail=` entry into a per-attempt rule (TypeError for anything else)."""
    where = f"fail[{step_key!r}]"
    if isinstance(spec, int) and not isinstance(spec, bool):
        if spec < 0:
            raise TypeError(f"{where}: the number of failed attempts must be >= 0")
        return lambda sid, n: InjectedFailure(f"injected failure of {sid!r}") if n <= spec else None
    if isinstance(spec, BaseException) or (
        isinstance(spec, type) and issubclass(spec, BaseException)
    ):
        exc = _exception(spec, where)
        return lambda sid, n: exc
    if isinstance(spec, list | tuple):
        excs = [_exception(item, f"{where}[{i}]") for i, item in enumerate(spec)]
        return lambda sid, n: excs[n - 1] if n <= len(excs) else None
    if callable(spec):
        return lambda sid, n: _exception(spec(n), f"{where}({n})")
    raise TypeError(
        f"{where}: expected a number of attempts, an exception, a list of exceptions or a "
        f"callable attempt -> exception, got {type(spec).__name__}"
    )


def _table(name: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}= must be a dict of step id -> ..., not {type(value).__name__}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise TypeError(f"{name}=: step ids are non-empty strings, got {key!r}")
    return dict(value)


def _raiser(exc: BaseException) -> Callable[..., Any]:
    def injected_failure(*_args: Any, **_kwargs: Any) -> Any:
        # the same instance may be raised on every attempt: start each from a clean traceback
        raise exc.with_traceback(None)

    return injected_failure


def _constant(value: Any) -> Callable[..., Any]:
    def stub(*_args: Any, **_kwargs: Any) -> Any:
        return value

    return stub


class Interceptor:
    """Applies `fail=` and `stub=` to one run's steps and counts every real call in any run.

    A key matches its step id exactly; a key without a `:N` suffix also matches the ids a loop
    gives the same step (`fetch` matches `fetch:1`, `fetch:2`…) unless those have keys of their own.
    """

    def __init__(self, fail: Mapping[str, Any] | None, stub: Mapping[str, Any] | None) -> None:
        """Validate and keep the rules; raises TypeError for a spec it can't use."""
        self._fail = {k: _fail_rule(k, v) for k, v in _table("fail", fail).items()}
        self._stub = _table("stub", stub)
        self.run_id: str | None = None
        self.calls: Counter[tuple[str, str]] = Counter()
        self.actions: dict[tuple[str, str, int], str] = {}
        self.used: set[str] = set()
        self._lock = threading.Lock()

    @property
    def keys(self) -> set[str]:
        """Every step key given in `fail=` or `stub=`."""
        return set(self._fail) | set(self._stub)

    def _key(self, table: Mapping[str, Any], sid: str) -> str | None:
        if sid in table:
            return sid
        m = _LOOP_ID.match(sid)
        if m and m["base"] in table:
            return m["base"]
        return None

    def __call__(self, run: RunRecord, step_id: str, attempt: int) -> Callable[..., Any] | None:
        """The callable this attempt runs instead of the step's own, or None (counted as a call)."""
        call, action = None, "call"
        if run.id == self.run_id:
            call, action = self._decide(step_id, attempt)
        with self._lock:
            self.actions[(run.id, step_id, attempt)] = action
            if call is None:
                self.calls[(run.id, step_id)] += 1
        return call

    def _decide(self, sid: str, attempt: int) -> tuple[Callable[..., Any] | None, str]:
        key = self._key(self._fail, sid)
        if key is not None:
            self.used.add(key)
            try:
                exc = self._fail[key](sid, attempt)
            except Exception as bad:  # a broken fail= callable shows up as that step's error
                exc = bad
            if exc is not None:
                return _raiser(exc), "fail"
        key = self._key(self._stub, sid)
        if key is not None:
            self.used.add(key)
            value = self._stub[key]
            if callable(value):
                return value, "spy"
            return _constant(value), "stub"
        return None, "call"
