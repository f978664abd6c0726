"""Pilot tests: sending from the modal, a run appearing live and completing, cancel, paging."""

from __future__ import annotations

from textual.widgets import Button, Input, Static
from tui_support import calls, settled, wait_for

from durable_cli.engine import Engine
from durable_cli.store import RunRecord
from durable_cli.tui.app import DurableApp
from durable_cli.tui.screens.confirm import ConfirmScreen
from durable_cli.tui.screens.send_event import SendEventScreen
from durable_cli.tui.widgets.json_editor import JsonEditor
from durable_cli.tui.widgets.run_list import PAGE


async def _open_send(pilot, name: str, data: str) -> SendEventScreen:
    await pilot.press("s")
    screen = await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, SendEventScreen) and pilot.app.screen,
        "the send modal",
    )
    await wait_for(pilot, lambda: not screen.loading, "the first prefill")
    screen.query_one("#event-name", Input).value = name
    # the new name's prefill first, so that it can't replace `data`
    await pilot.pause()
    await wait_for(pilot, lambda: not screen.loading, "the name's prefill")
    screen.query_one("#event-data", JsonEditor).load_text(data)
    await pilot.pause()
    screen.validate()
    return screen


async def test_a_sent_event_run_appears_live_and_completes(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.main is not None
        await _open_send(pilot, "test/go", '{"n": 1}')
        await pilot.press("ctrl+s")
        main = app.main
        run = await wait_for(pilot, lambda: main.runs.selected, "the new run in the list")
        assert run.function == "pipeline" and run.event["data"] == {"n": 1}
        await wait_for(
            pilot, lambda: main.runs.selected.status == "completed", "the run to complete"
        )
        # the detail pane is read in a worker of its own: it may show the end a moment later
        detail = await wait_for(
            pilot,
            lambda: (
                (d := main.detail.detail) and d["id"] == run.id and d["status"] == "completed" and d
            ),
            "the detail pane to show the end",
        )
        assert [s["id"] for s in detail["steps"]] == ["one", "two", "three"]
        assert all(s["status"] == "completed" for s in detail["steps"])
        assert detail["output"] == {"total": 3}
        # the timeline follows the run to its end: the result row shows the output
        assert main.detail.timeline.selected.kind == "result"
        assert calls(engine) == ["one", "two", "three"]


async def test_the_send_modal_rejects_invalid_json(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_send(pilot, "test/go", '{"n": ')
        send = screen.query_one("#send", Button)
        error = screen.query_one("#data-error", Static)
        assert send.disabled
        assert "line 1" in str(error.render())
        await pilot.press("ctrl+s")
        assert app.screen is screen, "an invalid event must not be sent"
        screen.query_one("#event-data", JsonEditor).load_text("[1, 2]")
        screen.validate()
        assert send.disabled and "JSON object" in str(error.render())
        screen.query_one("#event-data", JsonEditor).load_text('{"n": 2}')
        screen.validate()
        assert not send.disabled and str(error.render()) == ""
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, "the modal to close")
        assert engine.store.queued_count() == 0
        assert list(engine.store.list_runs()) == []


async def test_typing_into_the_editor_validates_as_you_type(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_send(pilot, "test/go", "")
        editor = screen.query_one("#event-data", JsonEditor)
        editor.focus()
        await pilot.press(*'{"n": ')
        await wait_for(pilot, lambda: screen.query_one("#send", Button).disabled, "Send disabled")
        await pilot.press("1", "}")
        await wait_for(
            pilot, lambda: not screen.query_one("#send", Button).disabled, "Send enabled again"
        )


async def test_cancel_stops_a_run_for_good(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        assert main is not None
        engine.send("test/nap")
        run = await wait_for(
            pilot,
            lambda: (
                main.runs.selected
                and main.runs.selected.status == "sleeping"
                and main.runs.selected
            ),
            "the run to sleep",
        )
        await wait_for(pilot, lambda: main.detail.run_id == run.id, "its detail")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await wait_for(
            pilot, lambda: engine.store.get_run(run.id).status == "cancelled", "the cancel"
        )
        await wait_for(
            pilot, lambda: main.runs.selected.status == "cancelled", "the list to show it"
        )
        assert not main.check_action("cancel_run", ())


async def test_the_runs_list_loads_a_page_at_a_time(engine: Engine) -> None:
    total = PAGE * 3 + 7
    runs = [
        RunRecord(
            id=f"01KDVRJ{i:019d}",
            function="pipeline",
            event={"id": f"e{i}", "name": "test/go", "data": {}, "ts": 0},
            status="completed",
            created_at=1,
            started_at=1,
            ended_at=2,
        )
        for i in range(total)
    ]
    engine.store.create_runs(runs)
    app = DurableApp(engine, serve=False)
    async with app.run_test(size=(100, 30)) as pilot:
        listed = app.main.runs
        await settled(pilot)  # the first page is read in a worker
        assert len(listed.runs) == PAGE and listed.more
        assert listed.runs[0].id == runs[-1].id, "newest first"
        await pilot.press("end")
        await wait_for(pilot, lambda: len(listed.runs) == 2 * PAGE, "the second page")
        for _ in range(3):
            await pilot.press("end")
            await settled(pilot)  # each page is read before the next end
        await wait_for(pilot, lambda: not listed.more, "the last page")
        assert [r.id for r in listed.runs] == [r.id for r in reversed(runs)]
