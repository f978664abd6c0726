"""Pilot tests: with a function and a status chosen, `K` cancels and `P` reruns every run the
filter matches (more than the page the list loads), after a confirmation that says how many."""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import OptionList
from tui_support import settled, shown, wait_for

from durable_cli.engine import Engine
from durable_cli.store import RunRecord, new_id
from durable_cli.tui.app import DurableApp
from durable_cli.tui.data import STATUS_FILTERS
from durable_cli.tui.screens.confirm import ConfirmScreen
from durable_cli.tui.screens.main import MainScreen
from durable_cli.tui.screens.status_filter import StatusFilterScreen
from durable_cli.tui.widgets.run_list import PAGE

WAITING = PAGE + 12  # more than the list loads at once: the action must not stop at the page


def _seed(engine: Engine, function: str, status: str, count: int) -> list[str]:
    """`count` runs of `function` in `status`, written straight into the journal."""
    now = int(time.time() * 1000)
    runs = []
    for n in range(count):
        run_id = new_id(now + n)
        event = {"id": f"ev-{run_id}", "name": "test/go", "data": {"n": n}, "ts": now}
        runs.append(
            RunRecord(
                id=run_id,
                function=function,
                event=event,
                status=status,
                created_at=now + n,
                started_at=now + n,
                ended_at=now + n + 1 if status in ("failed", "completed") else None,
            )
        )
    engine.store.create_runs(runs)
    return [r.id for r in runs]


def _footer(main: MainScreen) -> set[str]:
    """The labels the footer shows now."""
    return {str(getattr(key, "description", "")) for key in main.footer.query("FooterKey")}


def _statuses(engine: Engine, run_ids: list[str]) -> set[str]:
    found = engine.store.get_runs(run_ids)
    return {found[i].status for i in run_ids}


async def _filter(pilot: Any, main: MainScreen, function: str, status: str) -> None:
    """Choose `function` in the functions panel and `status` with `f`, as a user does."""
    await settled(pilot)
    main.functions.focus()
    main.functions.highlighted = [o.id for o in main.functions.options].index(function)
    await pilot.press("enter")
    await wait_for(pilot, lambda: main.runs.filter.function == function, "the function filter")
    await pilot.press("f")
    picker = await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, StatusFilterScreen) and pilot.app.screen, "f"
    )
    picker.query_one("#filter-options", OptionList).highlighted = list(STATUS_FILTERS).index(status)
    await pilot.press("enter")
    await wait_for(pilot, lambda: main.runs.filter.status == status, "the status filter")
    await settled(pilot)


async def _question(pilot: Any, key: str) -> ConfirmScreen:
    await pilot.press(key)
    return await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, ConfirmScreen) and pilot.app.screen,
        "the confirmation",
    )


async def test_cancel_all_shown_cancels_exactly_the_matching_runs(engine: Engine) -> None:
    waiting = _seed(engine, "pipeline", "waiting", WAITING)
    sleeping = _seed(engine, "pipeline", "sleeping", 3)  # same function, other status
    others = _seed(engine, "napper", "waiting", 4)  # same status, other function
    app = DurableApp(engine, serve=False)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        assert main is not None
        await _filter(pilot, main, "pipeline", "waiting")
        assert len(main.runs.runs) == PAGE, "the list holds one page"
        question = await _question(pilot, "K")
        text = shown(question.query_one("#question"))
        assert f"Cancel {WAITING} runs of pipeline that are waiting?" in text, text
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is main, "the question to close")
        await settled(pilot)
        assert _statuses(engine, waiting) == {"waiting"}, "no: nothing is cancelled"

        await _question(pilot, "K")
        await pilot.press("y")
        await wait_for(
            pilot, lambda: _statuses(engine, waiting) == {"cancelled"}, "every matching run"
        )
        assert _statuses(engine, sleeping) == {"sleeping"}
        assert _statuses(engine, others) == {"waiting"}
        await wait_for(pilot, lambda: main.runs.runs == [], "the list to empty")


async def test_rerun_all_shown_reruns_each_failed_run_once(engine: Engine) -> None:
    failed = _seed(engine, "pipeline", "failed", 3)
    completed = _seed(engine, "pipeline", "completed", 2)
    app = DurableApp(engine, serve=False)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        assert main is not None
        await _filter(pilot, main, "pipeline", "failed")
        assert not main.check_action("cancel_shown", ()), "failed runs can't be cancelled"
        # the footer follows the status filter (the function alone offered K)
        await wait_for(pilot, lambda: "Rerun all" in _footer(main), "P in the footer")
        assert "Cancel all" not in _footer(main)
        question = await _question(pilot, "P")
        assert "Rerun 3 runs of pipeline that failed?" in shown(question.query_one("#question"))
        await pilot.press("y")
        await wait_for(pilot, lambda: len(list(engine.store.list_runs())) == 8, "3 new runs")
        new = [r for r in engine.store.list_runs() if r.replay_of]
        assert sorted(r.replay_of for r in new) == sorted(failed)
        assert all(r.status == "queued" for r in new)
        assert {r.event["id"] for r in new} == {f"ev-{i}" for i in failed}, "their own events"
        assert not {r.replay_of for r in new} & set(completed)


async def test_no_bulk_action_without_a_function(engine: Engine) -> None:
    _seed(engine, "pipeline", "waiting", 2)
    app = DurableApp(engine, serve=False)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        assert main is not None
        await settled(pilot)
        assert not main.check_action("cancel_shown", ())
        assert not main.check_action("rerun_shown", ())
        assert "Cancel all" not in _footer(main)
        await _filter(pilot, main, "pipeline", "all")
        assert main.check_action("cancel_shown", ()) and not main.check_action("rerun_shown", ())
        await wait_for(pilot, lambda: "Cancel all" in _footer(main), "K in the footer")
        assert "Rerun all" not in _footer(main)
        question = await _question(pilot, "K")
        text = shown(question.query_one("#question"))
        assert "Cancel 2 runs of pipeline that have not finished?" in text, text


async def test_nothing_matching_asks_nothing(engine: Engine) -> None:
    failed = _seed(engine, "pipeline", "failed", 2)
    app = DurableApp(engine, serve=False)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        assert main is not None
        await _filter(pilot, main, "pipeline", "waiting")
        await pilot.press("K")
        await settled(pilot)  # the selection was read (none) and applied
        assert app.screen is main, "no question about no runs"
        assert _statuses(engine, failed) == {"failed"}
