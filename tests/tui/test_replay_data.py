"""Pilot tests: `R` and `p` open the run's event data in the send dialog's editor first; the
new run's event carries what it holds (edited or not), esc and invalid JSON replay nothing."""

from __future__ import annotations

import json
from typing import Any

from tui_support import wait_for

from durable_cli.engine import Engine, RunRecord
from durable_cli.tui.app import DurableApp
from durable_cli.tui.screens.main import MainScreen
from durable_cli.tui.screens.replay_data import ReplayDataScreen

SIZE = (100, 30)


async def _first_run(pilot: Any, app: DurableApp, engine: Engine, n: int) -> tuple[str, str]:
    """Send `test/go` with `{"n": n}`; wait until its run completes and shows; its ids."""
    main = app.main
    assert main is not None
    event_id = engine.send("test/go", {"n": n})
    run_id = await wait_for(
        pilot,
        lambda: (
            main.detail.detail
            and main.detail.detail["status"] == "completed"
            and main.detail.detail["id"]
        ),
        "the first run to complete",
    )
    return run_id, event_id


async def _dialog(pilot: Any, key: str) -> ReplayDataScreen:
    await pilot.press(key)
    return await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, ReplayDataScreen) and pilot.app.screen,
        "the replay dialog",
    )


def _others(engine: Engine, first: str) -> list[RunRecord]:
    return [r for r in engine.store.list_runs() if r.id != first]


async def _new_run(pilot: Any, engine: Engine, first: str, status: str) -> RunRecord:
    """The one run besides `first`, once it is in `status` (read through the store)."""
    found = await wait_for(
        pilot,
        lambda: [r for r in _others(engine, first) if r.status == status],
        f"a new run that has {status}",
    )
    assert len(_others(engine, first)) == 1
    return found[0]


async def test_rerun_offers_the_events_data_and_replays_it_as_edited(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        first, _ = await _first_run(pilot, app, engine, 1)
        dialog = await _dialog(pilot, "R")
        assert json.loads(dialog.editor.text) == {"n": 1}, "the run's own event data"
        assert dialog.focused is not dialog.editor, "enter replays as it was; tab edits"
        await pilot.press("tab")
        assert dialog.focused is dialog.editor
        # `  "n": 1` on the second line: type a 0 after the 1
        await pilot.press("down", "end", "0")
        assert json.loads(dialog.editor.text) == {"n": 10}
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the dialog to close")
        new = await _new_run(pilot, engine, first, "completed")
        assert new.replay_of == first
        assert new.event["data"] == {"n": 10}
        assert new.event["name"] == "test/go"
        assert new.output == {"total": 12}, "every step ran again, on the new data"
        source = engine.store.get_run(first)
        assert source is not None and source.event["data"] == {"n": 1}, "the old run kept its"


async def test_rerun_unchanged_replays_the_same_event(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        first, event_id = await _first_run(pilot, app, engine, 2)
        await _dialog(pilot, "R")
        await pilot.press("enter")
        new = await _new_run(pilot, engine, first, "completed")
        assert new.event["id"] == event_id, "no new event: the run's own, as before"
        assert new.output == {"total": 4}


async def test_esc_after_an_edit_replays_nothing(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        first, _ = await _first_run(pilot, app, engine, 1)
        await _dialog(pilot, "R")
        await pilot.press("tab", "down", "end", "0", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the dialog to close")
        await pilot.pause()
        assert _others(engine, first) == [], "esc: no new run"
        assert engine.store.latest_event("test/go")["data"] == {"n": 1}, "and no new event"


async def test_invalid_json_shows_the_reason_and_replays_nothing(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        first, _ = await _first_run(pilot, app, engine, 1)
        dialog = await _dialog(pilot, "R")
        await pilot.press("tab", "down", "end", "backspace")  # `"n": ` with no value
        await wait_for(pilot, lambda: dialog.data_field.error, "the reason")
        assert dialog.data_field.error.startswith("line 3, column 1:"), dialog.data_field.error
        assert dialog.data_field.has_class("-invalid")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog, "ctrl+s does nothing while the data is not valid"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the dialog to close")
        assert _others(engine, first) == []


async def test_replay_from_a_step_with_edited_data(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        main = app.main
        assert main is not None
        first, _ = await _first_run(pilot, app, engine, 5)
        main.detail.timeline.focus()
        keys = [row.key for row in main.detail.timeline.rows]
        main.detail.timeline.cursor = keys.index("two")
        dialog = await _dialog(pilot, "p")
        assert "two" in dialog.title_text
        assert json.loads(dialog.editor.text) == {"n": 5}
        await pilot.press("tab", "down", "end", "backspace", "9")
        await pilot.press("ctrl+s")
        new = await _new_run(pilot, engine, first, "completed")
        assert new.event["data"] == {"n": 9}
        assert new.meta["replay_from"] == "two"
        steps = {s.id: s for s in engine.store.load_steps(new.id)}
        assert steps["one"].copied_from == first, "the step before it is copied, not run"
        assert steps["two"].copied_from is None
        assert new.output == {"total": 7}, "steps from `two` on run on the copied result"
