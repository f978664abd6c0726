"""Test hook, loaded as a workflow file: SIGKILL the runner inside the intake transaction.

With DURABLE_TEST_CRASH_IN_CLAIM set, the runner dies while planning the second queued event:
the first event's run is written and its queue entry deleted, but nothing is committed yet.
It patches an engine internal (the intake's planner), so a rename there makes the crash test
fail loudly, not pass.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from durable_cli.engine._intake import Intake

_plan = Intake._plan_runs
_planned: list[str] = []


def _plan_then_crash(self: Intake, event: dict[str, Any], *args: Any) -> Any:
    runs = _plan(self, event, *args)
    _planned.append(event["id"])
    if len(_planned) == 2 and os.environ.get("DURABLE_TEST_CRASH_IN_CLAIM"):
        os.kill(os.getpid(), signal.SIGKILL)
    return runs


Intake._plan_runs = _plan_then_crash
