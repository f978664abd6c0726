"""Pilot test: a typed step's output shows as its JSON under a heading that names its type."""

from __future__ import annotations

from tui_support import T0, a_run, demo_app, settled, shown, wait_for

from durable_cli.engine import Engine
from durable_cli.store import Attempt, StepRecord

ITEM = {"name": "apple", "qty": 3}


def _step(run_id: str, sid: str, seq: int, meta: dict[str, str]) -> StepRecord:
    return StepRecord(
        run_id,
        sid,
        seq,
        status="completed",
        started_at=T0,
        ended_at=T0 + 5,
        attempts=[Attempt(started_at=T0, ended_at=T0 + 5)],
        output=ITEM,
        meta=meta,
    )


async def test_the_step_view_names_a_typed_output_s_type(demo: Engine) -> None:
    run = a_run("01KDVRJ00000000000000TYP01", "completed", ended_at=T0 + 10)
    steps = [_step(run.id, "plain", 0, {}), _step(run.id, "typed", 1, {"type": "Item"})]
    demo.store.create_runs([run], steps)
    app = demo_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        await settled(pilot)
        assert main.detail.run_id == run.id  # the newest run
        timeline = main.detail.timeline
        body = main.detail.view.query_one("#step-view-body")
        keys = [row.key for row in timeline.rows]
        for sid, heading in (("typed", "Output (Item)"), ("plain", "Output")):
            timeline.cursor = keys.index(sid)
            text = await wait_for(
                pilot, lambda s=sid: shown(body).startswith(s) and shown(body), f"step {sid}"
            )
            lines = [line.strip() for line in text.splitlines()]
            assert heading in lines, text
            assert '"name": "apple"' in text, "the value shows as its JSON"
        assert "Output (" not in text, "an untyped step's heading names no type"
