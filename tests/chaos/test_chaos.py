"""The CI slice of the chaos campaign: 20 kill -9s of a real `durable dev` (the full run is
`python benchmarks/chaos.py --full`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign import WEIGHTS, run_campaign


@pytest.mark.parametrize("kind", ["def", "async"])
def test_twenty_kills_lose_nothing_and_rerun_only_interrupted_steps(tmp_path: Path, kind: str):
    report = run_campaign(tmp_path, runs=8, steps=10, kills=20, seed=20261125, kind=kind)
    summary = "\n".join(report.lines() + report.journal_problems + report.over_budget)
    assert report.total_kills == 20, summary
    assert set(report.kills) <= set(WEIGHTS), summary
    assert len(report.kills) >= 4, f"too few kinds of kill point landed:\n{summary}"
    assert report.completed == 8, summary
    assert report.journaled_once == 80, summary
    assert not report.journal_problems, summary
    assert not report.over_budget, summary
    assert report.never_ran == 0, summary
    assert report.events_sent == 8, summary
    assert (report.events_lost, report.events_duplicated, report.still_queued) == (0, 0, 0)
    assert report.ok, summary
