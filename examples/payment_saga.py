"""A payment saga: charge → reserve stock → ship; a failure compensates what already happened.

    durable dev examples/payment_saga.py
    durable send shop/order.placed --data examples/events/order-placed.json

Set `"fail_at": "reserve-stock"` (or "ship-order") in the event to watch the compensation run.
"""

from __future__ import annotations

from typing import Any

import durable_cli as durable

LEDGER: list[dict[str, Any]] = []  # the fake payment provider, stock system and carrier


def charge(order_id: str, amount: int) -> dict[str, Any]:
    """Charge the card (idempotent on the order id, as real providers are)."""
    LEDGER.append({"op": "charge", "order": order_id, "amount": amount})
    return {"charge_id": f"ch_{order_id}", "amount": amount}


def reserve(order_id: str, items: list[str], fail: bool) -> dict[str, Any]:
    """Reserve the items in the warehouse."""
    if fail:
        raise durable.NonRetriableError(f"out of stock for order {order_id}")
    LEDGER.append({"op": "reserve", "order": order_id, "items": items})
    return {"reservation": f"rs_{order_id}"}


def ship(order_id: str, fail: bool) -> dict[str, Any]:
    """Hand the parcel to the carrier."""
    if fail:
        raise durable.NonRetriableError("carrier rejected the parcel")
    LEDGER.append({"op": "ship", "order": order_id})
    return {"tracking": f"TRK-{order_id}"}


def refund(charge_id: str) -> dict[str, Any]:
    """Give the money back."""
    LEDGER.append({"op": "refund", "charge": charge_id})
    return {"refunded": charge_id}


def release(reservation: str) -> dict[str, Any]:
    """Put the reserved items back on the shelf."""
    LEDGER.append({"op": "release", "reservation": reservation})
    return {"released": reservation}


@durable.function(id="checkout-saga", trigger="shop/order.placed", retries=3)
def checkout(event: durable.Event, step: durable.Step) -> dict[str, Any]:
    """Each step journaled; on a failure for good, undo the completed steps in reverse."""
    order, fail_at = event.data, event.data.get("fail_at")
    payment = step.run("charge-card", charge, order["order_id"], order["amount"])
    try:
        stock = step.run(
            "reserve-stock", reserve, order["order_id"], order["items"], fail_at == "reserve-stock"
        )
    except durable.StepError as err:
        step.run("refund-card", refund, payment["charge_id"])
        return {"status": "cancelled", "reason": err.message}
    try:
        parcel = step.run("ship-order", ship, order["order_id"], fail_at == "ship-order")
    except durable.StepError as err:
        step.run("release-stock", release, stock["reservation"])
        step.run("refund-card", refund, payment["charge_id"])
        return {"status": "cancelled", "reason": err.message}
    return {"status": "shipped", "tracking": parcel["tracking"]}
