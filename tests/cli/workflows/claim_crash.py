"""Test hook, loaded as a workflow file: SIGKILL the runner inside the intake transaction.

With DURABLE_TEST_CRASH_IN_CLAIM set, the runner dies while planning the second queued event:
the first event's run is written and its queue entry deleted, but nothing is committed yet.
It patches an engine internal, so a rename there makes the crash test fail loudly, not pass.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from durable_cli.engine._engine import Engine

_plan = Engine._plan_runs
_planned: list[str] = []


def _plan_then_crash(self: Engine, event: dict[str, Any], *args: Any) -> Any:
    runs = _plan(self, event, *args)
    _planned.append(event["id"])
    if len(_planned) == 2 and os.environ.get("DURABLE_TEST_CRASH_IN_CLAIM"):
        os.kill(os.getpid(), signal.SIGKILL)
    return runs


Engine._plan_runs = _plan_then_crash
