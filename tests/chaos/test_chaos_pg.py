"""The CI slice of the many-worker chaos campaign on PostgreSQL: three real `durable worker`s
on the test server, SIGKILLed at fault points and from outside, and the server restarted as a
crash would (`pg_ctl restart -m immediate`) meanwhile. The full run is
`python benchmarks/chaos.py --full --workers 3`."""

from __future__ import annotations

from pathlib import Path

from campaign import WEIGHTS
from fleet import run_fleet
from pg_support import pg_server  # noqa: F401 - the session's PostgreSQL server, a fixture


def test_killed_workers_and_a_database_restart_lose_nothing(tmp_path: Path, pg_server):  # noqa: F811
    url = pg_server.new_database()
    report = run_fleet(
        tmp_path,
        url,
        workers=3,
        runs=6,
        steps=5,
        kills=8,
        restarts=1,
        restart=pg_server.restart,
        seed=20261201,
        lease=1.0,
    )
    summary = "\n".join(report.lines() + report.journal_problems + report.over_budget)
    assert report.total_kills >= 8, summary
    assert set(report.kills) <= set(WEIGHTS), summary
    assert len(report.kills) >= 4, f"too few kinds of kill point landed:\n{summary}"
    assert report.restarts == 1, summary
    assert report.completed == 6, summary
    assert report.journaled_once == 30, summary
    assert not report.journal_problems, summary
    assert not report.over_budget, summary
    assert report.never_ran == 0, summary
    assert report.events_sent == 6, summary
    assert (report.events_lost, report.events_duplicated, report.still_queued) == (0, 0, 0)
    assert report.ok, summary
