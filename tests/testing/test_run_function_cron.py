"""A cron function runs one tick on virtual time in the testing helper."""

from __future__ import annotations

from datetime import UTC, datetime

import durable_cli as durable
from durable_cli.testing import run_function


@durable.function(id="nightly-report", cron="0 2 * * *", retries=1, backoff=600)
def nightly(event, step):
    rows = step.run("collect", lambda: 42)
    step.sleep("settle", 3600)
    return {"rows": rows, "for": event.data["scheduled_at"]}


def test_a_cron_function_fires_at_its_next_tick_on_virtual_time():
    start = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    result = run_function(nightly, start_at=start, fail={"collect": 1})
    tick = int(datetime(2026, 3, 2, 2, 0, tzinfo=UTC).timestamp() * 1000)
    assert result.status == "completed"
    assert result.event.name == "durable/cron"
    assert result.output == {"rows": 42, "for": tick}
    collect = result.steps["collect"]
    assert collect.attempts == 2 and collect.calls == 1
