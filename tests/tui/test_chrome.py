"""Pilot tests: every action in the footer and the palette, the status line after a reload."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from tui_support import wait_for

from durable_cli.engine import Engine, Reloader
from durable_cli.tui.app import DurableApp
from durable_cli.tui.commands import ACTIONS
from durable_cli.tui.screens.main import MainScreen


def test_every_action_has_a_described_binding_and_a_handler() -> None:
    keys = {b.key: b for b in MainScreen.BINDINGS}
    for action in ACTIONS:
        binding = keys[action.key]
        assert binding.action == action.name and binding.description and binding.show
        assert callable(getattr(MainScreen, f"action_{action.name}"))
    assert len(keys) == len(ACTIONS), "one key per action"


async def test_the_palette_offers_what_the_footer_offers(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        engine.send("test/nap")
        await wait_for(
            pilot,
            lambda: main.detail.detail and main.detail.detail["status"] == "sleeping",
            "a sleeping run",
        )
        titles = [c.title for c in app.get_system_commands(main)]
        footer = {b.action for _, b, enabled, _ in main.active_bindings.values() if enabled}
        for action in ACTIONS:
            offered = any(t.endswith(f"[{action.key}]") for t in titles)
            assert offered == (action.name in footer), action.name
        assert any("Cancel the run" in t for t in titles)
        assert any("Retry now" in t for t in titles)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"retry now", "enter")
        await wait_for(pilot, lambda: app.screen is main, "the palette to close")
        await wait_for(
            pilot,
            lambda: engine.store.get_run(main.detail.run_id).status == "completed",
            "the sleep to be skipped",
        )


async def test_a_load_error_shows_file_and_line_and_the_app_goes_on(
    engine: Engine, workflow: Path
) -> None:
    app = DurableApp(engine, paths=[str(workflow)])
    async with app.run_test(size=(100, 30)) as pilot:
        status = app.main.status
        good = workflow.read_text()
        workflow.write_text(good + "\n\ndef broken(:\n")
        reloader = Reloader(engine, [str(workflow)])
        assert reloader.reload() is None
        line = len((good + "\n\ndef broken(:\n").splitlines())
        await wait_for(pilot, lambda: status.load_error, "the load error")
        shown = str(status.render())
        assert f"workflow.py:{line}" in shown and "SyntaxError" in shown
        workflow.write_text(good)
        assert reloader.reload() is not None
        await wait_for(pilot, lambda: not status.load_error, "the error to clear")
        assert "reloaded" in str(status.render())
        engine.send("test/go", {"n": 1})
        await wait_for(
            pilot,
            lambda: app.main.runs.selected and app.main.runs.selected.status == "completed",
            "a run after the reload",
        )
