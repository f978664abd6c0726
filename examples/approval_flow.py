"""An approval flow: ask for approval, then wait up to 3 days for the decision.

    durable dev examples/approval_flow.py
    durable send expense/submitted --data examples/events/expense-submitted.json
    durable send expense/decided --data '{"expense_id": "exp-88", "approved": true}'

The wait matches on `data.expense_id`, so a decision for another expense does not resume it. A
decision sent before the wait began does not count. With no decision in 3 days, it escalates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durable_cli as durable

INBOX: list[dict[str, Any]] = []


def ask_manager(expense: dict[str, Any]) -> dict[str, Any]:
    """Email the manager a link to approve or reject (fake)."""
    INBOX.append({"to": expense["manager"], "expense": expense["expense_id"]})
    return {"asked": expense["manager"]}


def pay(expense_id: str, amount: int) -> dict[str, Any]:
    """Pay the expense out (fake)."""
    return {"paid": expense_id, "amount": amount}


@durable.function(id="expense-approval", trigger="expense/submitted")
def approval(event: durable.Event, step: durable.Step) -> dict[str, Any]:
    """Ask, wait for the decision, then pay, reject or escalate."""
    expense = event.data
    step.run("ask-manager", ask_manager, expense)
    decision = step.wait_for_event(
        "wait-for-decision",
        event="expense/decided",
        timeout=timedelta(days=3),
        match="data.expense_id",
    )
    if decision is None:
        step.send_event("escalate", "expense/escalated", {"expense_id": expense["expense_id"]})
        return {"status": "escalated"}
    if not decision.data.get("approved"):
        return {"status": "rejected"}
    return step.run("pay-out", pay, expense["expense_id"], expense["amount"])
