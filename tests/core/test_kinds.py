"""The table of step kinds: a row for every kind the sdk facade asks for, with its display facts."""

from __future__ import annotations

import ast
import asyncio
import inspect
from datetime import timedelta

import pytest

import durable_cli as durable
from durable_cli.engine import Engine, Registry, VirtualClock, run_detail
from durable_cli.engine.kinds import KINDS, Kind
from durable_cli.sdk import _step
from durable_cli.store import RUN_STATUSES, TERMINAL_RUN_STATUSES

# the facade's calls that name a kind as their first argument
_ASKS = ("_tool", "_begin", "begin")


def _facade_kinds() -> set[str]:
    """The kinds `Step` and `AsyncStep` can ask the driver for, read from their source."""
    kinds = set()
    for node in ast.walk(ast.parse(inspect.getsource(_step))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _ASKS:
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Name) and first.id == "kind":
            continue  # the helpers that pass a caller's kind on
        assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
            f"line {node.lineno}: a kind the table test can't read (name it as a string literal)"
        )
        kinds.add(first.value)
    return kinds


def test_every_kind_the_facade_asks_for_has_a_row_and_no_row_is_unused():
    asked = _facade_kinds()
    assert asked >= {"run", "sleep", "wait", "send", "invoke"}
    assert asked == set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_row_has_its_display_facts(name):
    kind = KINDS[name]
    assert isinstance(kind, Kind) and kind.name == name
    assert type(kind).begin is not Kind.begin
    assert kind.run_status in RUN_STATUSES and kind.run_status not in TERMINAL_RUN_STATUSES
    assert isinstance(kind.shows_output, bool)
    assert isinstance(kind.label, str) and isinstance(kind.mark, str)
    # a plain step needs no words; every other kind names itself in a timeline
    assert bool(kind.label) == bool(kind.mark) == (name != "run")
    assert kind.due_field is None or isinstance(kind.due_field, str)


def _held(kind: str) -> tuple[durable.Function, durable.Function]:
    """A function held on one step of `kind` (an invoke waits for a child that waits)."""

    @durable.function(id="child", trigger="never")
    def child(event, step):
        step.wait_for_event("forever", event="never/comes", timeout=timedelta(days=30))

    @durable.function(id="held", trigger="go")
    def held(event, step):
        if kind == "sleep":
            step.sleep("it", timedelta(days=1))
        elif kind == "wait":
            step.wait_for_event("it", event="order/paid", timeout=timedelta(days=1))
        else:
            step.invoke("it", function=child)

    return held, child


@pytest.mark.parametrize("name", ["sleep", "wait", "invoke"])
def test_a_held_run_shows_the_status_and_due_time_its_kind_declares(store, name):
    held, child = _held(name)
    clock = VirtualClock()
    engine = Engine(store, Registry([held, child]), clock=clock)
    engine.send("go", {})
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 60_000))
    engine.close()
    (run,) = store.list_runs(function="held")
    kind = KINDS[name]
    assert run.status == kind.run_status
    (step,) = run_detail(store, run.id)["steps"]
    assert step["kind"] == name and step["status"] == "running"
    if kind.due_field is not None:
        assert step["meta"][kind.due_field] == run.wake_at
