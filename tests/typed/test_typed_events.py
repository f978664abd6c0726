"""Typed event data: `event_type=` gives the handler `event.data` as that type; data that does not
fit fails the run at once, and `durable send` refuses it when it can load the function."""

from __future__ import annotations

import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pydantic
import pytest

import durable_cli as durable
from durable_cli.testing import run_function

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_support import Project, state_snapshot


class Order(pydantic.BaseModel):
    sku: str
    qty: int


@dataclass
class Ping:
    host: str
    tries: int = 1


def _order_function(seen: list[object]) -> durable.Function:
    @durable.function(id="orders", trigger="shop/order", event_type=Order, retries=3)
    def orders(event, step):
        seen.append(event.data)
        return step.run("total", lambda: event.data.qty * 2)

    return orders


def test_the_handler_gets_the_event_data_as_the_event_type():
    seen: list[object] = []
    result = run_function(_order_function(seen), {"sku": "A-1", "qty": "3"})
    assert result.status == "completed"
    assert seen == [Order(sku="A-1", qty=3)]  # validated: "3" became 3
    assert result.output == 6
    assert result.event.data == {"sku": "A-1", "qty": "3"}  # the journal keeps what was sent


def test_run_function_takes_the_typed_data_itself():
    seen: list[object] = []
    result = run_function(_order_function(seen), Order(sku="B-2", qty=5))
    assert result.status == "completed" and result.output == 10
    assert seen == [Order(sku="B-2", qty=5)]


def test_a_dataclass_event_type_needs_no_pydantic():
    @durable.function(id="pings", trigger="net/ping", event_type=Ping)
    def pings(event, step):
        return [event.data.host, event.data.tries]

    assert run_function(pings, {"host": "h"}).output == ["h", 1]
    failed = run_function(pings, {"host": "h", "port": 1})
    assert failed.status == "failed"
    assert "Ping has no field port" in failed.error.message


def test_data_that_does_not_fit_fails_the_run_at_once_with_the_validation_message():
    seen: list[object] = []
    result = run_function(_order_function(seen), {"sku": "A-1", "qty": "many"})
    assert result.status == "failed"
    assert seen == [] and result.steps == {}  # the handler never ran, so nothing retries
    assert result.error.type == "InputError"
    assert result.error.message == (
        "event data for 'orders' is not a valid Order: qty: Input should be a valid integer,"
        " unable to parse string as an integer"
    )


def test_event_type_must_be_a_model_or_a_dataclass():
    with pytest.raises(TypeError, match="event_type must be a pydantic model, a dataclass"):
        durable.function(id="bad", trigger="x/y", event_type=dict)


WORKFLOW = textwrap.dedent(
    """
    import pydantic
    import durable_cli as durable

    class Order(pydantic.BaseModel):
        sku: str
        qty: int

    @durable.function(id="orders", trigger="shop/order", event_type=Order)
    def orders(event, step):
        return step.run("total", lambda: event.data.qty * 2)
    """
)

UNTYPED = textwrap.dedent(
    """
    import durable_cli as durable

    @durable.function(id="plain", trigger="shop/order")
    def plain(event, step):
        return step.run("echo", lambda: event.data)
    """
)


@pytest.fixture
def shop(tmp_path: Path):
    """A project whose pyproject.toml lists one workflow file, `shop.py`."""
    project = Project(tmp_path)
    project.configure("shop.py")
    yield project
    project.kill_runners()


def test_send_refuses_data_that_does_not_fit_and_writes_nothing(shop):
    (shop.root / "shop.py").write_text(WORKFLOW)
    done = shop.cli("send", "shop/order", "--data", '{"sku": "A", "qty": "x"}')
    assert done.returncode == 2
    assert done.stderr == (
        "error: event data for 'orders' is not a valid Order: qty: Input should be a valid"
        " integer, unable to parse string as an integer\n"
    )
    assert state_snapshot(shop.state) is None  # not even a state dir

    shop.send("shop/order", {"sku": "A", "qty": 2})
    shop.ok("send", "shop/order", "--data", '{"sku": "A", "qty": "x"}', "--no-validate")
    shop.run_until_idle()
    runs = {r["event"]["data"]["qty"]: r for r in shop.json("runs")}
    assert runs[2]["status"] == "completed" and runs[2]["output"] == 4
    bad = shop.json("show", runs["x"]["id"])
    assert bad["status"] == "failed"  # the runner checks too, and does not retry
    assert bad["steps"] == []
    assert "qty: Input should be a valid integer" in bad["error"]["message"]


def test_send_in_an_untyped_project_imports_no_typing_nor_the_workflows(shop):
    (shop.root / "shop.py").write_text(UNTYPED)
    shop.send("shop/order", {"n": 1})  # creates the journal: the next send takes the fast path
    done = shop.cli("send", "shop/order", "--data", '{"n": 2}', PYTHONPROFILEIMPORTTIME="1")
    assert done.returncode == 0, done.stderr
    modules = set(re.findall(r"\|\s+([\w.]+)$", done.stderr, re.MULTILINE))
    assert "durable_cli.cli._send_types" in modules  # the probe sees the check
    heavy = {"typing", "tomllib", "pydantic", "durable_cli.sdk", "durable_cli.engine._loader"}
    assert not modules & heavy
    assert not [m for m in modules if m.startswith("durable_workflows")]


def test_send_skips_workflow_files_that_do_not_load(shop):
    (shop.root / "shop.py").write_text(WORKFLOW + "\nraise RuntimeError('broken')\n")
    assert shop.send("shop/order", {"sku": "A", "qty": "x"})  # can't load: can't check
