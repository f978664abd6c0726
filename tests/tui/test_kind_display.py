"""Pilot test: the TUI shows a step kind from its row in the kinds table, so a new kind (here a
made-up `signal`) shows its held status, its due time and its mark with no TUI edit."""

from __future__ import annotations

from typing import Any

import pytest
from tui_support import T0, a_run, demo_app, settled, shown

from durable_cli.engine import Engine
from durable_cli.engine.kinds import KINDS, Kind
from durable_cli.store import Attempt, StepRecord
from durable_cli.tui.format import fmt_when, held_text, step_state

DUE = T0 + 3_600_000  # an hour after the run started


class Signal(Kind):
    """A kind the engine does not have: only its display facts matter here."""

    name = "signal"
    label = "wait for signal"
    mark = "signal"
    run_status = "waiting"
    due_field = "deadline"

    def begin(self, inv: Any, sid: str, rec: Any, **opts: Any) -> Any:
        raise NotImplementedError


@pytest.fixture
def signal_kind(monkeypatch: pytest.MonkeyPatch) -> Kind:
    kind = Signal()
    monkeypatch.setitem(KINDS, kind.name, kind)
    return kind


def _step(run_id: str, sid: str, seq: int, status: str) -> StepRecord:
    """A step of the new kind: held (running), or settled with no attempt to time."""
    held = status == "running"
    return StepRecord(
        run_id,
        sid,
        seq,
        kind="signal",
        status=status,
        started_at=T0,
        attempts=[Attempt(started_at=T0)] if held else [],
        meta={"signal": "approved", "deadline": DUE},
    )


def test_a_held_step_takes_its_status_and_due_time_from_its_row(signal_kind: Kind) -> None:
    step = _step("R", "approval", 0, "running").to_dict()
    assert step_state(step, "waiting") == "waiting"
    assert step_state(step, "running") == "running"  # its run is not held by it
    assert held_text(step, "waiting", T0) == f"waiting · until {fmt_when(DUE, T0)}"


async def test_the_timeline_shows_a_new_kind_from_its_row(demo: Engine, signal_kind: Kind) -> None:
    run = a_run("01KDVRJ00000000000000SIG01", "waiting", wake_at=DUE)
    demo.store.create_runs(
        [run],
        [_step(run.id, "first-signal", 0, "completed"), _step(run.id, "approval", 1, "running")],
    )
    app = demo_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        await settled(pilot)
        assert main.detail.run_id == run.id  # the newest run
        rows = shown(main.detail.timeline).splitlines()
        held = next(line for line in rows if "approval" in line)
        assert "◌" in held and f"until {fmt_when(DUE, demo.clock.now_ms())}" in held, held
        done = next(line for line in rows if "first-signal" in line)
        assert done.rstrip().endswith("signal"), "its mark where a duration would be"
