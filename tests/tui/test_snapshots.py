"""SVG snapshots of the main screens at 100x30, on a journal with fixed ids and times.

Update after an intended change: `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from textual.widgets import Input, TextArea
from tui_support import LOAD_ERROR, demo_app, seed_more_runs, settled, wait_for

from durable_cli.engine import Engine
from durable_cli.tui.widgets.json_editor import JsonEditor

SIZE = (100, 30)


async def _steady(pilot) -> None:
    await settled(pilot)  # the panes read the journal in workers: every read applied
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False
    await pilot.pause()


def test_paused_run_in_step_mode(snap_compare, demo: Engine) -> None:
    assert snap_compare(demo_app(demo), terminal_size=SIZE, run_before=_steady)


def test_completed_run_with_its_output(snap_compare, demo: Engine) -> None:
    async def down_twice(pilot) -> None:
        await settled(pilot)
        await pilot.press("down", "down")
        await settled(pilot)

    assert snap_compare(demo_app(demo), terminal_size=SIZE, run_before=down_twice)


def test_a_step_with_a_retry_lists_every_attempt(snap_compare, demo: Engine) -> None:
    async def open_classify(pilot) -> None:
        await settled(pilot)
        await pilot.press("down", "down", "tab")
        await settled(pilot)
        timeline = pilot.app.main.detail.timeline
        timeline.cursor = [r.key for r in timeline.rows].index("classify-document")
        await pilot.pause()

    assert snap_compare(demo_app(demo), terminal_size=SIZE, run_before=open_classify)


def test_send_modal_shows_a_json_error(snap_compare, demo: Engine) -> None:
    async def bad_json(pilot) -> None:
        await settled(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: not getattr(pilot.app.screen, "loading", True), "prefill")
        editor = pilot.app.screen.query_one(JsonEditor)
        editor.load_text('{\n  "filename": "quarterly-report.pdf",\n  "document_id": \n}')
        pilot.app.screen.validate()
        await _steady(pilot)

    assert snap_compare(demo_app(demo), terminal_size=SIZE, run_before=bad_json)


def test_80_by_24_keeps_status_name_and_id(snap_compare, demo: Engine) -> None:
    seed_more_runs(demo.store, 10)

    async def load_error(pilot) -> None:
        await settled(pilot)
        pilot.app.main.status.failed(LOAD_ERROR, None)
        await pilot.pause()

    assert snap_compare(demo_app(demo), terminal_size=(80, 24), run_before=load_error)


def test_rerun_dialog_offers_the_event_data_at_80_by_24(snap_compare, demo: Engine) -> None:
    async def rerun(pilot) -> None:
        await settled(pilot)
        await pilot.press("down", "down")  # the first run, completed
        await settled(pilot)
        await pilot.press("R")
        await wait_for(pilot, lambda: hasattr(pilot.app.screen, "data_field"), "the dialog")
        await _steady(pilot)

    assert snap_compare(demo_app(demo), terminal_size=(80, 24), run_before=rerun)
