"""Pilot tests: step mode and `n`, failing the next attempt, replaying from a step."""

from __future__ import annotations

from typing import Any

from tui_support import calls, registered_failures, settled, shown, wait_for

from durable_cli.engine import Engine
from durable_cli.tui.app import DurableApp
from durable_cli.tui.format import ICONS
from durable_cli.tui.screens.confirm import ConfirmScreen
from durable_cli.tui.screens.fail_step import FailStepScreen
from durable_cli.tui.screens.main import MainScreen
from durable_cli.tui.screens.replay_data import ReplayDataScreen


def _steps(main: MainScreen) -> dict[str, dict[str, Any]]:
    detail = main.detail.detail or {"steps": []}
    return {s["id"]: s for s in detail["steps"]}


def _paused_before(main: MainScreen, step_id: str) -> bool:
    run = main.detail.detail
    return bool(
        run
        and run["status"] == "paused"
        and _steps(main).get(step_id, {}).get("status") == "paused"
    )


async def _step_mode_run(pilot, app: DurableApp, engine: Engine) -> MainScreen:
    """Turn on step mode for the function from its row in the functions panel, then send."""
    main = app.main
    assert main is not None
    await settled(pilot)  # the functions panel is read in a worker
    main.functions.focus()
    ids = [o.id for o in main.functions.options]
    main.functions.highlighted = ids.index("pipeline")
    await pilot.press("T")
    await wait_for(pilot, lambda: engine.store.flags("stepmode/pipeline"), "function step mode")
    main.runs.focus()
    engine.send("test/go", {"n": 1})
    await wait_for(pilot, lambda: _paused_before(main, "one"), "a pause before step one")
    return main


async def test_step_mode_pauses_before_each_step_and_n_runs_one(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await _step_mode_run(pilot, app, engine)
        assert calls(engine) == []
        await pilot.press("n")
        await wait_for(pilot, lambda: _paused_before(main, "two"), "a pause before step two")
        assert calls(engine) == ["one"]
        assert _steps(main)["one"]["status"] == "completed"
        await pilot.press("n")
        await wait_for(pilot, lambda: _paused_before(main, "three"), "a pause before three")
        assert calls(engine) == ["one", "two"]
        await pilot.press("n")
        await wait_for(pilot, lambda: main.detail.detail["status"] == "completed", "the end")
        assert calls(engine) == ["one", "two", "three"]


async def test_fail_next_attempt_makes_that_step_retry(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await _step_mode_run(pilot, app, engine)
        await pilot.press("n")
        await wait_for(pilot, lambda: _paused_before(main, "two"), "a pause before step two")
        assert main.detail.selected_step["id"] == "two"
        await pilot.press("x")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, FailStepScreen) and app.screen, "the fail modal"
        )
        await pilot.press(*"boom")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: app.screen is main, "the modal to close")
        assert screen.step_id == "two"
        # `n` pressed before the failure is registered would let the step run for real
        [pending] = await registered_failures(pilot, engine)
        assert (pending.step, pending.run) == ("two", main.detail.detail["id"])
        await pilot.press("n")
        await wait_for(pilot, lambda: _steps(main)["two"]["attempts"] == 1, "the failed attempt")
        two = _steps(main)["two"]
        # it retries (after a 50 ms backoff, which step mode then holds)
        assert two["status"] in ("retrying", "paused")
        assert two["attempt_log"][0]["injected"]
        assert two["error"]["message"] == "boom"
        assert calls(engine) == ["one"], "an injected failure doesn't call the step's code"
        # step mode holds the retry too; `n` lets it run, and only the next attempt failed
        await wait_for(pilot, lambda: _paused_before(main, "two"), "a pause before the retry")
        await pilot.press("n")
        await wait_for(pilot, lambda: _steps(main)["two"]["status"] == "completed", "the retry")
        assert _steps(main)["two"]["attempts"] == 2
        assert calls(engine) == ["one", "two"]


async def _completed_run_id(pilot: Any, main: Any, what: str) -> str:
    """Wait until the run shown in the detail pane has completed; its id."""
    return await wait_for(
        pilot,
        lambda: (
            main.detail.detail
            and main.detail.detail["status"] == "completed"
            and main.detail.detail["id"]
        ),
        what,
    )


async def test_replay_from_a_step_does_not_run_earlier_steps_again(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        assert main is not None
        engine.send("test/go", {"n": 5})
        first = await _completed_run_id(pilot, main, "the first run to complete")
        assert calls(engine) == ["one", "two", "three"]
        main.detail.timeline.focus()
        keys = [row.key for row in main.detail.timeline.rows]
        main.detail.timeline.cursor = keys.index("two")
        await pilot.press("p")
        # the event's data, to keep (enter) or edit first
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayDataScreen), "the dialog")
        await pilot.press("enter")
        replay = await wait_for(
            pilot,
            lambda: (
                main.detail.detail
                and main.detail.detail["id"] != first
                and main.detail.detail["status"] == "completed"
                and main.detail.detail
            ),
            "the replay to be selected and complete",
        )
        assert replay["replay_of"] == first
        steps = {s["id"]: s for s in replay["steps"]}
        assert steps["one"]["copied_from"] == first
        assert steps["two"]["copied_from"] is None
        assert replay["output"] == {"total": 7}
        assert calls(engine) == ["one", "two", "three", "two", "three"]


async def test_rerun_replays_the_whole_run(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        assert main is not None
        engine.send("test/go", {"n": 1})
        first = await _completed_run_id(pilot, main, "the run to complete")
        # R asks first, as c does: a rerun runs every step (and its side effects) again
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayDataScreen), "the question")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main, "the question to close")
        assert [r.id for r in engine.store.list_runs()] == [first], "esc means no new run"
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayDataScreen), "the question")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                main.detail.detail["id"] != first and main.detail.detail["status"] == "completed"
            ),
            "the rerun",
        )
        assert calls(engine) == ["one", "two", "three"] * 2


async def test_a_cancelled_runs_unfinished_step_shows_cancelled_not_paused(
    engine: Engine,
) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = await _step_mode_run(pilot, app, engine)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: main.detail.detail["status"] == "cancelled", "the cancel")
        timeline = main.detail.timeline
        row = [r.key for r in timeline.rows].index("one")
        line = timeline.render_row(row, 60).plain
        assert line.startswith(f"{ICONS['cancelled']} one"), line
        assert ICONS["paused"] not in line
        timeline.cursor = row
        body = main.detail.view.query_one("#step-view-body")
        view = await wait_for(pilot, lambda: "one" in shown(body) and shown(body), "the step")
        assert f"{ICONS['cancelled']} cancelled" in view and "paused" not in view.lower()
