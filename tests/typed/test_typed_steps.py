"""Typed step values: pydantic models, dataclasses and containers of them are journaled as JSON
and handed back as their type, on the first run and on every replay."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import pytest
from typed_values import Item, Point, make_item, make_items, make_point, maybe_item

import durable_cli as durable
from durable_cli.sdk import _typed
from durable_cli.testing import run_function


@dataclass
class Route:
    name: str
    stops: list[Point]
    via: Point | None = None


def make_route() -> Route:
    return Route("home", [Point(0, 0), Point(3, 4)], via=Point(1, 1))


def by_name() -> dict[str, Item]:
    return {"a": Item(name="a", qty=1)}


def untyped_item():
    return {"name": "plain", "qty": 7}


EXPECTED_TYPES = {
    "item": Item,
    "point": Point,
    "items": list,
    "maybe-yes": Item,
    "maybe-no": type(None),
    "route": Route,
    "by-name": dict,
    "given": Item,
}


def _typed_steps(step: Any, seen: list[dict[str, Any]]) -> dict[str, Any]:
    values = {
        "item": step.run("item", make_item),
        "point": step.run("point", make_point),
        "items": step.run("items", make_items),
        "maybe-yes": step.run("maybe-yes", maybe_item, True),
        "maybe-no": step.run("maybe-no", maybe_item, False),
        "route": step.run("route", make_route),
        "by-name": step.run("by-name", by_name),
        "given": step.run("given", untyped_item, output_type=Item),
    }
    seen.append(values)
    return values


def _check(values: dict[str, Any]) -> None:
    assert {k: type(v) for k, v in values.items()} == EXPECTED_TYPES
    assert values["item"] == Item(name="apple", qty=3)
    assert values["point"] == Point(1, 2)
    assert values["items"] == [Item(name="a", qty=1), Item(name="b", qty=2)]
    assert values["maybe-yes"] == Item(name="found", qty=1)
    assert values["route"] == Route("home", [Point(0, 0), Point(3, 4)], via=Point(1, 1))
    assert values["by-name"] == {"a": Item(name="a", qty=1)}
    assert values["given"] == Item(name="plain", qty=7)


JOURNALED = {
    "item": {"name": "apple", "qty": 3},
    "point": {"x": 1, "y": 2},
    "items": [{"name": "a", "qty": 1}, {"name": "b", "qty": 2}],
    "maybe-yes": {"name": "found", "qty": 1},
    "maybe-no": None,
    "route": {
        "name": "home",
        "stops": [{"x": 0, "y": 0}, {"x": 3, "y": 4}],
        "via": {"x": 1, "y": 1},
    },
    "by-name": {"a": {"name": "a", "qty": 1}},
    "given": {"name": "plain", "qty": 7},
}


def test_typed_values_come_back_as_their_type_first_run_and_replay():
    seen: list[dict[str, Any]] = []

    @durable.function(id="typed", trigger="t/go")
    def typed(event, step):
        values = _typed_steps(step, seen)
        step.sleep("nap", 60)  # the run suspends: the next call replays every step above
        return len(values)

    result = run_function(typed)
    assert result.status == "completed", result.error
    first, replayed = seen
    _check(first)
    _check(replayed)
    assert {sid: s.output for sid, s in result.steps.items() if sid != "nap"} == JOURNALED


def test_async_handlers_get_typed_values_too():
    seen: list[dict[str, Any]] = []

    async def async_item() -> Item:
        return Item(name="async", qty=1)

    @durable.function(id="typed-async", trigger="t/go")
    async def typed(event, step):
        values = {
            "async": await step.run("async", async_item),
            "sync": await step.run("sync", make_point),
            "given": await step.run("given", untyped_item, output_type=Item),
        }
        seen.append(values)
        await step.sleep("nap", 60)

    assert run_function(typed).status == "completed"
    for values in seen:
        assert values == {
            "async": Item(name="async", qty=1),
            "sync": Point(1, 2),
            "given": Item(name="plain", qty=7),
        }
    assert len(seen) == 2


def test_the_journal_names_the_type_and_keeps_plain_json(tmp_path):
    @durable.function(id="named", trigger="t/go")
    def named(event, step):
        step.run("items", make_items)
        step.run("plain", lambda: [1, 2])

    result = run_function(named, state_dir=tmp_path / "state")
    assert result.status == "completed"
    from durable_cli.store import open_store

    store = open_store(str(tmp_path / "state"), create=False)
    try:
        steps = {s.id: s for s in store.load_steps(result.id)}
    finally:
        store.close()
    assert steps["items"].meta == {"type": "list[Item]"}
    assert steps["items"].output == JOURNALED["items"]
    assert steps["plain"].meta == {}


def test_a_handler_annotated_to_return_a_model_stores_its_json():
    @durable.function(id="returns-model", trigger="t/go")
    def handler(event, step) -> Route:
        return step.run("route", make_route)

    result = run_function(handler)
    assert result.status == "completed"
    assert result.output == JOURNALED["route"]


def test_parallel_steps_are_typed_one_by_one():
    got: list[Any] = []

    @durable.function(id="fan", trigger="t/go")
    def fan(event, step):
        got.append(step.parallel([("item", make_item), ("point", make_point), ("raw", lambda: 1)]))
        step.sleep("nap", 1)

    assert run_function(fan).status == "completed"
    assert got == [[Item(name="apple", qty=3), Point(1, 2), 1]] * 2


def test_models_as_event_data_for_send_event_and_invoke_are_sent_as_json():
    @durable.function(id="kid", trigger="t/kid", event_type=Item)
    def kid(event, step):
        return event.data.qty

    @durable.function(id="parent", trigger="t/go")
    def parent(event, step):
        step.send_event("tell", "t/told", Item(name="told", qty=2))
        return step.invoke("call", function=kid, data=Item(name="kid", qty=5))

    result = run_function(parent, functions=[kid])
    assert result.status == "completed", result.error
    assert result.output == 5


def test_an_untyped_model_fails_as_before_naming_the_step_and_how_to_type_it():
    @durable.function(id="untyped", trigger="t/go")
    def untyped(event, step):
        step.run("model", lambda: Item(name="x", qty=1))

    result = run_function(untyped)
    assert result.status == "failed"
    step = result.steps["model"]
    assert step.attempts == 1  # not retried
    assert step.error.type == "OutputNotStorableError"
    assert "step 'model' returned a Item" in step.error.message
    assert "output_type=" in step.error.message


def test_a_value_that_is_not_of_the_declared_type_fails_the_step_at_once():
    def wrong() -> Point:
        return "not a point"  # type: ignore[return-value]

    def bad_model() -> Item:
        return {"name": "x", "qty": "many"}  # type: ignore[return-value]

    @durable.function(id="wrong", trigger="t/go")
    def handler(event, step):
        for sid, fn in (("wrong", wrong), ("bad-model", bad_model)):
            with contextlib.suppress(durable.StepError):
                step.run(sid, fn)

    result = run_function(handler)
    wrong_step, bad_step = result.steps["wrong"], result.steps["bad-model"]
    assert (wrong_step.attempts, bad_step.attempts) == (1, 1)
    assert wrong_step.error.type == bad_step.error.type == "OutputNotStorableError"
    assert "step 'wrong' returned a str" in wrong_step.error.message
    assert "expected Point, got str" in wrong_step.error.message
    assert "step 'bad-model' returned a dict" in bad_step.error.message
    assert "qty: Input should be a valid integer" in bad_step.error.message


def test_a_dataclass_field_json_cannot_hold_is_named():
    import datetime

    @dataclass
    class Stamp:
        at: datetime.datetime

    def stamp() -> Stamp:
        return Stamp(datetime.datetime(2024, 1, 1))

    @durable.function(id="stamp", trigger="t/go")
    def handler(event, step):
        step.run("stamp", stamp)

    step = run_function(handler).steps["stamp"]
    assert step.status == "failed" and step.attempts == 1
    assert "returned a Stamp" in step.error.message
    assert "Stamp.at is a datetime, which JSON can't hold" in step.error.message


def test_journaled_output_that_no_longer_fits_the_type_fails_the_run_with_the_reason():
    calls: list[int] = []

    def point() -> Point:
        calls.append(1)
        return Point(1, 2)

    @durable.function(id="changed", trigger="t/go")
    def handler(event, step):
        step.run("point", point)
        step.sleep("nap", 1)

    @dataclass
    class Renamed:
        x: int
        z: int

    def renamed() -> Renamed:
        return Renamed(0, 0)

    # the second call (after the sleep) finds {"x": 1, "y": 2} where the code now wants Renamed
    original = handler.handler

    def swapped(event, step):
        if calls:
            step.run("point", renamed)
        return original(event, step)

    handler.handler = swapped
    result = run_function(handler)
    assert result.status == "failed"
    assert "journaled output is not a valid Renamed" in result.error.message


def test_hints_are_resolved_once_per_callable(monkeypatch):
    resolved: list[Any] = []
    real = _typed._resolve_return

    def counting(fn: Any, ret: Any) -> Any:
        resolved.append(fn)
        return real(fn, ret)

    monkeypatch.setattr(_typed, "_resolve_return", counting)
    _typed._BY_CODE.clear()

    def annotated_point() -> Point:
        return Point(0, 0)

    @durable.function(id="loop", trigger="t/go")
    def loop(event, step):
        for i in range(5):
            step.run(f"p{i}", annotated_point)
            step.run(f"u{i}", lambda n=i: n)  # untyped: never resolved

    assert run_function(loop).status == "completed"
    assert resolved == [annotated_point]


def test_a_partial_and_a_class_called_as_steps_are_typed():
    def point_at(x: int, y: int) -> Point:
        return Point(x, y)

    got: list[Any] = []

    @durable.function(id="callables", trigger="t/go")
    def handler(event, step):
        got.append(step.run("partial", functools.partial(point_at, 3), 4))
        got.append(step.run("class", Point, 5, 6))
        step.sleep("nap", 1)

    assert run_function(handler).status == "completed"
    assert got == [Point(3, 4), Point(5, 6)] * 2


def test_type_codecs_know_plain_json_types():
    assert _typed.type_codec(int) is None
    assert _typed.type_codec(dict[str, list[int]]) is None
    assert _typed.type_codec(Point | None).name == "Point | None"
    assert _typed.type_codec(tuple[Point, int]).decode([{"x": 1, "y": 2}, 3]) == (Point(1, 2), 3)
    assert _typed.type_codec(list[Item]).name == "list[Item]"


def test_a_dataclass_only_type_never_needs_pydantic():
    codec = _typed.type_codec(Route)
    assert type(codec).__name__ == "_DataclassCodec"
    data = codec.encode(make_route())
    assert data == JOURNALED["route"]
    assert codec.decode(data) == make_route()
    with pytest.raises(ValueError, match="Route has no field extra"):
        codec.decode({**data, "extra": 1})
    assert dataclasses.asdict(codec.decode(data)) == data
