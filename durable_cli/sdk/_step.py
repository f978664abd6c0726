"""The `step` object handlers receive; sync and async share one core (the engine's driver).

The driver decides everything (replay, injected failure, step mode, retry, journaling); the two
facades below only differ in how they call the user's callable: directly, or awaited.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from ._outcome import Outcome

__all__ = ["AsyncStep", "Plan", "Step", "StepDriver"]


@dataclass(slots=True)
class Plan:
    """The driver's answer to "this step is asked for": done already, or call the callable."""

    step_id: str
    done: Outcome | None = None
    token: Any = None
    call: Callable[..., Any] | None = None  # runs instead of the step's callable (testing helper)


class StepDriver(Protocol):
    """What the engine provides to the step facades (one per handler invocation)."""

    def begin(self, kind: str, step_id: str, **opts: Any) -> Plan:
        """Resolve the id, replay or decide to execute; may raise a control-flow signal."""
        ...

    def complete(self, plan: Plan, outcome: Outcome) -> Any:
        """Journal an executed step's outcome; return its value or raise."""
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


class Step(_Base):
    """Step tools for a `def` handler."""

    __slots__ = ()

    def run(
        self,
        step_id: str,
        fn: Callable[..., Any],
        *args: Any,
        retries: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run `fn(*args, **kwargs)` once, journal its JSON result and return it."""
        plan = self._begin("run", step_id, retries=retries)
        if plan.done is not None:
            return plan.done.unwrap()
        if plan.call is not None:
            fn = plan.call
        if inspect.iscoroutinefunction(fn):
            outcome = Outcome.capture(self._driver.run_coroutine, fn(*args, **kwargs))
        else:
            outcome = Outcome.capture(fn, *args, **kwargs)
        return self._driver.complete(plan, outcome)

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
        return self._tool("send", step_id, name=name, data=data)

    def invoke(self, step_id: str, *, function: Any, data: dict[str, Any] | None = None) -> Any:
        """Run `function` as a child run and return its output."""
        return self._tool("invoke", step_id, function=function, data=data)


class AsyncStep(_Base):
    """Step tools for an `async def` handler: the same core, awaited."""

    __slots__ = ()

    async def run(
        self,
        step_id: str,
        fn: Callable[..., Any],
        *args: Any,
        retries: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run `fn(*args, **kwargs)` once, journal its JSON result and return it."""
        plan = self._begin("run", step_id, retries=retries)
        if plan.done is not None:
            return plan.done.unwrap()
        if plan.call is not None:
            fn = plan.call
        if inspect.iscoroutinefunction(fn):
            outcome = await Outcome.acapture(fn(*args, **kwargs))
        else:
            import asyncio  # here, not at the top: `durable send` imports the sdk and not asyncio

            # a sync callable must not block the loop the TUI and other runs share
            outcome = await Outcome.acapture(asyncio.to_thread(fn, *args, **kwargs))
        return self._driver.complete(plan, outcome)

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
        return self._tool("send", step_id, name=name, data=data)

    async def invoke(
        self, step_id: str, *, function: Any, data: dict[str, Any] | None = None
    ) -> Any:
        """Run `function` as a child run and return its output."""
        return self._tool("invoke", step_id, function=function, data=data)
