"""Pilot tests for the other footer keys: filters (f, a), step mode for a run (t), continue (C)."""

from __future__ import annotations

from tui_support import wait_for

from durable_cli.engine import Engine
from durable_cli.store import RunRecord
from durable_cli.tui.app import DurableApp
from durable_cli.tui.screens.status_filter import StatusFilterScreen


async def test_status_and_function_filters(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        engine.send("test/go", {"n": 1})
        engine.send("test/nap")
        await wait_for(
            pilot,
            lambda: {r.status for r in main.runs.runs} == {"completed", "sleeping"},
            "one completed run and one sleeping",
        )
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, StatusFilterScreen), "the picker")
        await pilot.press("down", "down", "down", "enter")  # all, active, completed, failed
        await wait_for(pilot, lambda: main.runs.filter.status == "failed", "the failed filter")
        assert main.runs.runs == [] and "failed" in str(main.runs.border_title)
        await pilot.press("f", "up", "up", "enter")
        await wait_for(pilot, lambda: main.runs.filter.status == "active", "the active filter")
        assert [r.function for r in main.runs.runs] == ["napper"]
        main.functions.focus()
        ids = [o.id for o in main.functions.options]
        main.functions.highlighted = ids.index("pipeline")
        await pilot.press("enter")
        await wait_for(pilot, lambda: main.runs.filter.function == "pipeline", "the fn filter")
        assert main.runs.runs == []
        await pilot.press("a")
        await wait_for(pilot, lambda: main.runs.filter.function is None, "all functions")
        assert [r.function for r in main.runs.runs] == ["napper"]


async def test_t_toggles_step_mode_for_the_selected_run(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        engine.send("test/nap")
        run = await wait_for(
            pilot,
            lambda: (
                main.detail.detail
                and main.detail.detail["status"] == "sleeping"
                and main.detail.detail
            ),
            "a sleeping run",
        )
        await pilot.press("t")
        await wait_for(pilot, lambda: engine.store.get_run(run["id"]).step_mode, "step mode on")
        await wait_for(pilot, lambda: main.detail.detail["step_mode"], "the header to say so")
        await pilot.press("t")
        await wait_for(
            pilot, lambda: not engine.store.get_run(run["id"]).step_mode, "step mode off"
        )


async def test_continue_anyway_after_a_code_change_hold(engine: Engine) -> None:
    held = RunRecord(
        id="01KDVRJ00000000000000HELD1",
        function="pipeline",
        event={"id": "ev-held", "name": "test/go", "data": {"n": 1}, "ts": 0},
        status="paused",
        created_at=1,
        started_at=1,
        reason="code changed: step 'two' would run at position 1 where the journal has 'one'",
        meta={"code_change": {"journal_step": "one", "code_step": "two"}},
    )
    engine.store.create_runs([held])
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        await wait_for(pilot, lambda: main.detail.run_id == held.id, "the held run")
        assert main.check_action("continue_anyway", ())
        await pilot.press("C")
        await wait_for(
            pilot, lambda: engine.store.get_run(held.id).status == "completed", "the run to go on"
        )
