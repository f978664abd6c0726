"""Every example workflow runs with its sample event through the real engine."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from durable_cli.engine import Engine, Registry, VirtualClock, load_paths, run_detail

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "examples" / "events"


def _load(name: str):
    registry = load_paths([str(ROOT / "examples" / name)])
    (fn,) = registry
    return fn, sys.modules[fn.handler.__module__]


def _sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize(
    ("fail_at", "ops", "status"),
    [
        (None, ["charge", "reserve", "ship"], "shipped"),
        ("reserve-stock", ["charge", "refund"], "cancelled"),
        ("ship-order", ["charge", "reserve", "release", "refund"], "cancelled"),
    ],
)
def test_payment_saga_compensates(harness, fail_at, ops, status):
    fn, module = _load("payment_saga.py")
    module.LEDGER.clear()
    data = {**_sample("order-placed.json"), "fail_at": fail_at}
    harness.run(fn, events=[("shop/order.placed", data)])
    (run,) = harness.runs()
    assert run.output["status"] == status
    assert [entry["op"] for entry in module.LEDGER] == ops


def test_approval_flow_waits_for_the_matching_decision(store):
    fn, _module = _load("approval_flow.py")
    clock = VirtualClock()
    engine = Engine(store, Registry([fn]), clock=clock)
    engine.send("expense/submitted", _sample("expense-submitted.json"))
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 3_600_000))
    engine.send("expense/decided", {"expense_id": "other", "approved": False})
    engine.send("expense/decided", {"expense_id": "exp-88", "approved": True})
    asyncio.run(engine.serve(until_idle=True, idle_wait=0, recover=False))
    (run,) = store.list_runs()
    assert run.output == {"paid": "exp-88", "amount": 129}


def test_approval_flow_escalates_after_three_days(harness):
    fn, _ = _load("approval_flow.py")
    harness.run(fn, events=[("expense/submitted", _sample("expense-submitted.json"))])
    (run,) = harness.runs()
    assert run.output == {"status": "escalated"}
    detail = run_detail(harness.store, run.id)
    wait = detail["steps"][1]
    assert wait["ended_at"] - wait["started_at"] == 3 * 86_400_000


def test_ai_pipeline_fans_out_and_retries_one_chunk_alone(harness):
    fn, module = _load("ai_pipeline.py")
    module.CALLS.clear()
    harness.run(
        fn,
        events=[("ai/report.requested", _sample("report-requested.json"))],
        before=lambda engine: engine.inject_failure(
            "summarize-chunk:2", function_id=fn.id, message="model overloaded"
        ),
    )
    (run,) = harness.runs()
    detail = run_detail(harness.store, run.id)
    attempts = {s["id"]: s["attempts"] for s in detail["steps"] if s["id"].startswith("summ")}
    assert len(attempts) == run.output["chunks"] > 3
    assert attempts.pop("summarize-chunk:2") == 2
    assert set(attempts.values()) == {1}
    assert len(module.CALLS) == run.output["chunks"]  # the injected failure called nothing
