"""Pilot tests: a pending injected failure is marked in the TUI and the fail dialog removes it."""

from __future__ import annotations

from typing import Any

from tui_support import registered_failures, shown, wait_for

from durable_cli.engine import Engine, actions
from durable_cli.tui.app import DurableApp
from durable_cli.tui.screens.fail_step import FailStepScreen
from durable_cli.tui.screens.main import MainScreen


def _words(widget: Any) -> str:
    return " ".join(shown(widget).split())


def _function_row(main: MainScreen, function_id: str) -> str:
    return main.functions.get_option(function_id).prompt.plain


async def _run_ends(pilot: Any, main: MainScreen, engine: Engine) -> dict:
    """Send an event for `pipeline`, wait for its run to end and show it."""
    before = {r.id for r in main.runs.runs}
    engine.send("test/go", {"n": 1})
    run = await wait_for(
        pilot,
        lambda: next(
            (
                r
                for r in main.runs.runs
                if r.id not in before and r.status in ("completed", "failed")
            ),
            None,
        ),
        "the new run to end",
    )
    main.runs.select_run(run.id)
    return await wait_for(
        pilot, lambda: (d := main.detail.detail) and d["id"] == run.id and d, "it to show"
    )


async def _select_step(pilot: Any, main: MainScreen, step_id: str) -> None:
    timeline = main.detail.timeline
    await wait_for(pilot, lambda: step_id in [r.key for r in timeline.rows], f"step {step_id}")
    timeline.cursor = [r.key for r in timeline.rows].index(step_id)
    await wait_for(pilot, lambda: main.detail.selected_step["id"] == step_id, "the selection")


async def test_an_every_attempt_failure_is_marked_and_removed_from_the_dialog(
    engine: Engine,
) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        first = await _run_ends(pilot, main, engine)
        assert first["status"] == "completed"
        await _select_step(pilot, main, "two")

        await pilot.press("x")
        dialog = await wait_for(
            pilot, lambda: isinstance(app.screen, FailStepScreen) and app.screen, "the dialog"
        )
        dialog.query_one("#fail-step").value = "two"
        await pilot.click("#every")
        await wait_for(pilot, lambda: app.screen is main, "the dialog to close")
        [pending] = await registered_failures(pilot, engine)
        assert (pending.step, pending.function, pending.every_attempt) == ("two", "pipeline", True)

        # marked where a user looks: the function's row and the step's view
        await wait_for(
            pilot,
            lambda: (
                "⚠ failing: two" in _function_row(main, "pipeline")
                and "injected failure: two every attempt" in _function_row(main, "pipeline")
            ),
            "the functions pane to mark it",
        )
        body = main.detail.view.query_one("#step-view-body")
        await wait_for(
            pilot,
            lambda: (
                "injected failure pending: every attempt (every run of pipeline)" in _words(body)
            ),
            "the step view to mark it",
        )
        second = await _run_ends(pilot, main, engine)
        assert second["status"] == "failed"

        # the dialog shows it, and ^r removes it
        await _select_step(pilot, main, "two")
        await pilot.press("x")
        dialog = await wait_for(
            pilot, lambda: isinstance(app.screen, FailStepScreen) and app.screen, "the dialog"
        )
        dialog.query_one("#fail-step").value = "two"
        note = dialog.query_one("#fail-pending")
        await wait_for(pilot, lambda: "pending: every attempt" in _words(note), "the note")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen is main, "the dialog to close")
        await wait_for(pilot, lambda: engine.pending_failures() == [], "the failure's removal")
        await wait_for(
            pilot,
            lambda: "injected" not in _function_row(main, "pipeline"),
            "the mark to go from the functions pane",
        )
        third = await _run_ends(pilot, main, engine)
        assert third["status"] == "completed"


async def test_failures_added_and_removed_elsewhere_show_up(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        await wait_for(pilot, lambda: main.functions.option_count > 1, "the functions")
        # what `durable fail` in another terminal does: write the store and poke the runner
        actions.inject_failure(engine.store, "three", function_id="pipeline", times=2)
        await wait_for(
            pilot,
            lambda: "three next 2 attempts" in _function_row(main, "pipeline"),
            "the functions pane to mark it",
        )
        actions.clear_all_failures(engine.store)
        await wait_for(
            pilot,
            lambda: "injected" not in _function_row(main, "pipeline"),
            "the mark to go",
        )


async def test_a_failure_used_up_by_a_run_loses_its_mark(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        engine.inject_failure("one", function_id="pipeline")
        await wait_for(
            pilot,
            lambda: "one next attempt" in _function_row(main, "pipeline"),
            "the functions pane to mark it",
        )
        run = await _run_ends(pilot, main, engine)
        assert run["steps"][0]["attempts"] == 2  # the injected one, then the real one
        await wait_for(
            pilot,
            lambda: "injected" not in _function_row(main, "pipeline"),
            "the mark to go once used",
        )
