"""Typed step values for the typed tests: a pydantic model, a dataclass, and step callables whose
annotations say they return them. Imported by the tests in process, and copied beside a test
workflow for a real `durable dev` (a workflow may import its sibling modules)."""

from __future__ import annotations

from dataclasses import dataclass

import pydantic


class Item(pydantic.BaseModel):
    name: str
    qty: int


@dataclass
class Point:
    x: int
    y: int


def make_item() -> Item:
    return Item(name="apple", qty=3)


def make_point() -> Point:
    return Point(1, 2)


def make_items() -> list[Item]:
    return [Item(name="a", qty=1), Item(name="b", qty=2)]


def maybe_item(present: bool) -> Item | None:
    return Item(name="found", qty=1) if present else None
