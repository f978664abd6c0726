"""SVG snapshots of the main screens at 100x30, on a journal with fixed ids and times.

Update after an intended change: `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea
from tui_support import T0, seed_journal

from durable_cli.engine import Engine, VirtualClock, load_paths
from durable_cli.store import open_store
from durable_cli.tui.app import DurableApp
from durable_cli.tui.widgets.json_editor import JsonEditor

SIZE = (100, 30)


@pytest.fixture
def demo(tmp_path: Path, in_repo: Path, utc: None) -> Iterator[Engine]:
    """The example pipeline over a seeded journal; time stands still at T0 + 125 s."""
    store = open_store(str(tmp_path / "state"))
    seed_journal(store)
    engine = Engine(
        store, load_paths(["examples/document_pipeline.py"]), clock=VirtualClock(T0 + 125_000)
    )
    yield engine
    engine.close()
    store.close()


def _app(engine: Engine) -> DurableApp:
    # serve=False: nothing runs, so the picture depends only on the seeded journal
    return DurableApp(engine, paths=["examples/document_pipeline.py"], serve=False)


async def _steady(pilot) -> None:
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False
    await pilot.pause()


def test_paused_run_in_step_mode(snap_compare, demo: Engine) -> None:
    assert snap_compare(_app(demo), terminal_size=SIZE, run_before=_steady)


def test_completed_run_with_its_output(snap_compare, demo: Engine) -> None:
    assert snap_compare(_app(demo), press=["down", "down"], terminal_size=SIZE)


def test_a_step_with_a_retry_lists_every_attempt(snap_compare, demo: Engine) -> None:
    async def open_classify(pilot) -> None:
        await pilot.press("down", "down", "tab")
        timeline = pilot.app.main.detail.timeline
        timeline.cursor = [r.key for r in timeline.rows].index("classify-document")
        await pilot.pause()

    assert snap_compare(_app(demo), terminal_size=SIZE, run_before=open_classify)


def test_send_modal_shows_a_json_error(snap_compare, demo: Engine) -> None:
    async def bad_json(pilot) -> None:
        await pilot.press("s")
        await pilot.pause()
        editor = pilot.app.screen.query_one(JsonEditor)
        editor.load_text('{\n  "filename": "quarterly-report.pdf",\n  "document_id": \n}')
        pilot.app.screen.validate()
        await _steady(pilot)

    assert snap_compare(_app(demo), terminal_size=SIZE, run_before=bad_json)
