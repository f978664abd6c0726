"""The `step` object handlers receive; sync and async share one core (the engine's driver).

The driver decides everything (replay, injected failure, step mode, retry, journaling); the two
facades below only differ in how they call the user's callable: directly, or awaited.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import NonRetriableError, OutputNotStorableError
from ._outcome import Outcome
from ._typed import Codec, codec_for, plain_data

__all__ = ["AsyncStep", "Plan", "Step", "StepDriver"]

_CO_COROUTINE = inspect.CO_COROUTINE
_UNSEEN = (None,)  # truthy: a callable without `__annotations__` (a partial) is looked into


@dataclass(slots=True)
class Plan:
    """The driver's answer to "this step is asked for": done already, or call the callable."""

    step_id: str
    done: Outcome | None = None
    token: Any = None
    call: Callable[..., Any] | None = None  # runs instead of the step's callable (testing helper)
    typed: str | None = None  # the name of the type a typed step's value is journaled as


class StepDriver(Protocol):
    """What the engine provides to the step facades (one per handler invocation)."""

    def begin(self, kind: str, step_id: str, **opts: Any) -> Plan:
        """Resolve the id, replay or decide to execute; may raise a control-flow signal."""
        ...

    def complete(self, plan: Plan, outcome: Outcome) -> Any:
        """Journal an executed step's outcome; return its value or raise."""
        ...

    async def acomplete(self, plan: Plan, outcome: Outcome) -> Any:
        """`complete` for an async handler: the journal write is awaited, not waited for."""
        ...

    def run_coroutine(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine from a sync handler's thread on the engine's loop."""
        ...


def _check_id(step_id: str) -> None:
    if not isinstance(step_id, str) or not step_id:
        raise TypeError("step id must be a non-empty string")


class _Base:
    __slots__ = ("_driver",)

    def __init__(self, driver: StepDriver) -> None:
        self._driver = driver

    def _begin(self, kind: str, step_id: str, **opts: Any) -> Plan:
        _check_id(step_id)
        return self._driver.begin(kind, step_id, **opts)

    def _tool(self, kind: str, step_id: str, **opts: Any) -> Any:
        """Tools with no user callable (sleep, wait, send, invoke): the driver does it all."""
        plan = self._begin(kind, step_id, **opts)
        assert plan.done is not None
        return plan.done.unwrap()


def _parallel_items(steps: Any) -> list[tuple[str, Callable[..., Any], tuple[Any, ...]]]:
    items = []
    for entry in steps:
        if not isinstance(entry, tuple | list) or len(entry) < 2 or not callable(entry[1]):
            raise TypeError("parallel takes a list of (step_id, fn, *args) tuples")
        items.append((entry[0], entry[1], tuple(entry[2:])))
    return items


def _encoded(codec: Codec, plan: Plan, outcome: Outcome) -> Outcome:
    """A typed step's result as JSON-able data, ready to journal; the type's name on the plan."""
    plan.typed = codec.name
    if outcome.error is not None:
        return outcome
    value = outcome.value
    try:
        return Outcome(codec.encode(value))
    except (TypeError, ValueError) as exc:
        error = OutputNotStorableError(plan.step_id, type(value).__name__, str(exc))
        return Outcome(error=error)


def _decoded(codec: Codec, step_id: str, data: Any) -> Any:
    """A typed step's journaled JSON handed back as its type (first run and replay alike)."""
    try:
        return codec.decode(data)
    except (TypeError, ValueError) as exc:
        raise NonRetriableError(
            f"step {step_id!r}: its journaled output is not a valid {codec.name}"
            f" (did the type change since it ran?): {exc}"
        ) from None


def _gathered(outcomes: list[Outcome]) -> list[Any]:
    """Every parallel step has been journaled: a retry (suspend) wins over a failure."""
    errors = [o.error for o in outcomes if o.error is not None]
    for err in errors:
        if not isinstance(err, Exception):
            raise err
    if errors:
        raise errors[0]
    return [o.value for o in outcomes]


class Step(_Base):
    """Step tools for a `def` handler."""

    __slots__ = ()

    def run(
        self,
        step_id: str,
        fn: Callable[..., Any],
        *args: Any,
        retries: int | None = None,
        output_type: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run `fn(*args, **kwargs)` once, journal its JSON result and return it.

        A pydantic model, a dataclass or a container of them, as `fn`'s return annotation or
        `output_type`, comes back as that type; the journal keeps its JSON."""
        _check_id(step_id)
        plan = self._driver.begin("run", step_id, retries=retries)  # `_begin`, a call less
        # most step callables are unannotated functions: an empty dict says so without a call
        # a class is asked first: a builtin one (`int`) raises inside getattr each time
        annotated = (
            output_type is not None
            or isinstance(fn, type)
            or getattr(fn, "__annotations__", _UNSEEN)
        )
        codec = codec_for(fn, output_type) if annotated else None
        if plan.done is not None:
            if codec is None:
                return plan.done.unwrap()
            return _decoded(codec, plan.step_id, plan.done.unwrap())
        outcome = self._call(plan.call or fn, args, kwargs)
        if codec is None:
            return self._driver.complete(plan, outcome)
        data = self._driver.complete(plan, _encoded(codec, plan, outcome))
        return _decoded(codec, plan.step_id, data)

    def _call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Outcome:
        # the result, not the callable, is checked: inspecting every callable cost more than
        # a whole step's bookkeeping, and a partial or a decorated `async def` is caught too
        outcome = Outcome.capture(fn, *args, **kwargs)
        if outcome.error is None and inspect.iscoroutine(outcome.value):
            return Outcome.capture(self._driver.run_coroutine, outcome.value)
        return outcome

    def sleep(self, step_id: str, duration: Any) -> None:
        """Sleep `duration` (seconds or a timedelta), durably."""
        self._tool("sleep", step_id, duration=duration)

    def sleep_until(self, step_id: str, until: Any) -> None:
        """Sleep until the datetime `until`, durably."""
        self._tool("sleep", step_id, until=until)

    def wait_for_event(
        self, step_id: str, *, event: str, timeout: Any, match: str | None = None
    ) -> Any:
        """Wait for an event named `event`; return it, or None at the timeout."""
        return self._tool("wait", step_id, event=event, timeout=timeout, match=match)

    def send_event(self, step_id: str, name: str, data: dict[str, Any] | None = None) -> list[str]:
        """Send an event once (a replay does not send again); return the new event ids."""
        return self._tool("send", step_id, name=name, data=plain_data(data))

    def invoke(self, step_id: str, *, function: Any, data: dict[str, Any] | None = None) -> Any:
        """Run `function` as a child run and return its output."""
        return self._tool("invoke", step_id, function=function, data=plain_data(data))

    def parallel(self, steps: list[tuple[Any, ...]]) -> list[Any]:
        """Run `(step_id, fn, *args)` steps concurrently, each journaled alone; results in order."""
        from concurrent.futures import ThreadPoolExecutor

        items = _parallel_items(steps)
        plans = [self._begin("run", sid) for sid, _, _ in items]
        codecs = [codec_for(fn) for _, fn, _ in items]
        todo = [i for i, plan in enumerate(plans) if plan.done is None]
        results: dict[int, Outcome] = {}
        if todo:
            with ThreadPoolExecutor(len(todo), thread_name_prefix="durable-parallel") as pool:
                futures = {
                    i: pool.submit(self._call, plans[i].call or items[i][1], items[i][2], {})
                    for i in todo
                }
                for i, future in futures.items():
                    outcome, codec = future.result(), codecs[i]
                    if codec is not None:
                        outcome = _encoded(codec, plans[i], outcome)
                    results[i] = Outcome.capture(self._driver.complete, plans[i], outcome)
        outcomes = [
            plan.done if plan.done is not None else results[i] for i, plan in enumerate(plans)
        ]
        for i, codec in enumerate(codecs):
            if codec is not None and outcomes[i].ok:
                outcomes[i] = Outcome.capture(_decoded, codec, plans[i].step_id, outcomes[i].value)
        return _gathered(outcomes)


class AsyncStep(_Base):
    """Step tools for an `async def` handler: the same core, awaited."""

    __slots__ = ()

    async def run(
        self,
        step_id: str,
        fn: Callable[..., Any],
        *args: Any,
        retries: int | None = None,
        output_type: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run `fn(*args, **kwargs)` once, journal its JSON result and return it (typed as
        `Step.run` says)."""
        _check_id(step_id)
        plan = self._driver.begin("run", step_id, retries=retries)  # `_begin`, a call less
        # most step callables are unannotated functions: an empty dict says so without a call
        # a class is asked first: a builtin one (`int`) raises inside getattr each time
        annotated = (
            output_type is not None
            or isinstance(fn, type)
            or getattr(fn, "__annotations__", _UNSEEN)
        )
        codec = codec_for(fn, output_type) if annotated else None
        if plan.done is not None:
            if codec is None:
                return plan.done.unwrap()
            return _decoded(codec, plan.step_id, plan.done.unwrap())
        if plan.call is not None:
            fn = plan.call
        code = getattr(fn, "__code__", None)  # an `async def`: its flag says so, cheaply
        if (code is not None and code.co_flags & _CO_COROUTINE) or inspect.iscoroutinefunction(fn):
            # `Outcome.acapture`, inlined: each coroutine layer costs every step's resumes
            try:
                outcome = Outcome(await fn(*args, **kwargs))
            except BaseException as exc:
                outcome = Outcome(error=exc)
        else:
            import asyncio  # here, not at the top: `durable send` imports the sdk and not asyncio

            # a sync callable must not block the loop the TUI and other runs share
            outcome = await Outcome.acapture(asyncio.to_thread(fn, *args, **kwargs))
        if codec is None:
            return await self._driver.acomplete(plan, outcome)
        data = await self._driver.acomplete(plan, _encoded(codec, plan, outcome))
        return _decoded(codec, plan.step_id, data)

    async def sleep(self, step_id: str, duration: Any) -> None:
        """Sleep `duration` (seconds or a timedelta), durably."""
        self._tool("sleep", step_id, duration=duration)

    async def sleep_until(self, step_id: str, until: Any) -> None:
        """Sleep until the datetime `until`, durably."""
        self._tool("sleep", step_id, until=until)

    async def wait_for_event(
        self, step_id: str, *, event: str, timeout: Any, match: str | None = None
    ) -> Any:
        """Wait for an event named `event`; return it, or None at the timeout."""
        return self._tool("wait", step_id, event=event, timeout=timeout, match=match)

    async def send_event(
        self, step_id: str, name: str, data: dict[str, Any] | None = None
    ) -> list[str]:
        """Send an event once (a replay does not send again); return the new event ids."""
        return self._tool("send", step_id, name=name, data=plain_data(data))

    async def invoke(
        self, step_id: str, *, function: Any, data: dict[str, Any] | None = None
    ) -> Any:
        """Run `function` as a child run and return its output."""
        return self._tool("invoke", step_id, function=function, data=plain_data(data))

    async def parallel(self, steps: list[tuple[Any, ...]]) -> list[Any]:
        """Run `(step_id, fn, *args)` steps concurrently, each journaled alone; results in order."""
        import asyncio

        items = _parallel_items(steps)
        results = await asyncio.gather(
            *(Outcome.acapture(self.run(sid, fn, *args)) for sid, fn, args in items)
        )
        return _gathered(list(results))
