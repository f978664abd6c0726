"""A cron function ticking every second (croniter's sixth field is seconds)."""

from __future__ import annotations

import durable_cli as durable


@durable.function(id="ticker", cron="* * * * * *")
def ticker(event, step):
    return event.data["scheduled_at"]
