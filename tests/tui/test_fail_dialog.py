"""Pilot tests: the fail dialog starts from the selected step whatever its status, and its two
scopes read apart without colour."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, RadioButton
from tui_support import registered_failures, shown, wait_for

from durable_cli.engine import Engine
from durable_cli.tui.app import DurableApp
from durable_cli.tui.screens.fail_step import FailStepScreen
from durable_cli.tui.screens.main import MainScreen


async def _select_step(pilot: Any, main: MainScreen, step_id: str) -> None:
    timeline = main.detail.timeline
    await wait_for(pilot, lambda: step_id in [r.key for r in timeline.rows], f"step {step_id}")
    timeline.cursor = [r.key for r in timeline.rows].index(step_id)
    await wait_for(pilot, lambda: main.detail.selected_step["id"] == step_id, "the selection")


async def _open(pilot: Any, app: DurableApp) -> FailStepScreen:
    await pilot.press("x")
    return await wait_for(
        pilot, lambda: isinstance(app.screen, FailStepScreen) and app.screen, "the fail dialog"
    )


def _mark(button: RadioButton, label: str) -> str:
    """What the option shows before its label: its on/off mark, as characters."""
    text = " ".join(shown(button).split())
    assert label in text, text
    return text.split(label)[0].strip()


async def test_a_completed_step_of_a_finished_run_is_prefilled(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        engine.send("test/go", {"n": 1})
        await wait_for(
            pilot,
            lambda: main.detail.detail and main.detail.detail["status"] == "completed",
            "a completed run",
        )
        await _select_step(pilot, main, "two")
        dialog = await _open(pilot, app)
        assert dialog.query_one("#fail-step", Input).value == "two"
        # a finished run takes no more failures: new runs of its function do
        assert dialog.query_one("#scope-function", RadioButton).value
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: app.screen is main, "the dialog to close")
        [pending] = await registered_failures(pilot, engine)
        assert (pending.step, pending.function, pending.times) == ("two", "pipeline", 1)


async def test_a_completed_step_of_a_live_run_fails_new_runs_not_this_one(
    engine: Engine,
) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        engine.send("test/nap")  # sleeps ten minutes after no step at all
        engine.set_step_mode(function_id="pipeline")
        engine.send("test/go", {"n": 1})
        await wait_for(
            pilot,
            lambda: any(r.function == "pipeline" and r.status == "paused" for r in main.runs.runs),
            "a run paused before its first step",
        )
        run = next(r for r in main.runs.runs if r.function == "pipeline")
        main.runs.select_run(run.id)
        await wait_for(pilot, lambda: main.detail.run_id == run.id, "its detail")
        await pilot.press("n")  # step one runs and completes; the run pauses before two
        await wait_for(
            pilot,
            lambda: any(
                s["id"] == "one" and s["status"] == "completed"
                for s in (main.detail.detail or {}).get("steps", ())
            ),
            "step one to complete",
        )
        await _select_step(pilot, main, "one")
        dialog = await _open(pilot, app)
        assert dialog.query_one("#fail-step", Input).value == "one"
        # step one is done in this run: only the function's new runs can still fail it
        assert dialog.query_one("#scope-run", RadioButton).disabled
        assert dialog.query_one("#scope-function", RadioButton).value
        # typing a step this run has not reached offers this run again
        dialog.query_one("#fail-step", Input).value = "three"
        await wait_for(
            pilot, lambda: not dialog.query_one("#scope-run", RadioButton).disabled, "this run"
        )
        dialog.query_one("#fail-step", Input).value = "one"
        await wait_for(
            pilot, lambda: dialog.query_one("#scope-run", RadioButton).disabled, "no this run"
        )
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: app.screen is main, "the dialog to close")
        [pending] = await registered_failures(pilot, engine)
        assert (pending.step, pending.function, pending.run) == ("one", "pipeline", None)


async def test_the_two_scopes_differ_in_shape_not_only_colour(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        engine.send("test/nap")
        await wait_for(
            pilot,
            lambda: main.detail.detail and main.detail.detail["status"] == "sleeping",
            "a sleeping run",
        )
        dialog = await _open(pilot, app)
        this_run = dialog.query_one("#scope-run", RadioButton)
        every_run = dialog.query_one("#scope-function", RadioButton)
        assert this_run.value and not every_run.value
        on, off = _mark(this_run, "this run"), _mark(every_run, "every run of napper")
        assert on != off, (on, off)

        dialog.query_one("#fail-scope").focus()
        await pilot.press("down", "enter")  # move to the other option and choose it
        await wait_for(pilot, lambda: every_run.value, "the other scope chosen")
        assert _mark(every_run, "every run of napper") == on
        assert _mark(this_run, "this run") == off
