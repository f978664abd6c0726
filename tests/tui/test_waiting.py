"""Pilot tests: what a waiting or sleeping run shows and which keys it offers."""

from __future__ import annotations

import time

import pytest
from textual.widget import Widget
from textual.widgets import Input
from tui_support import shown, wait_for

from durable_cli.engine import Engine
from durable_cli.tui.app import DurableApp
from durable_cli.tui.format import ICONS, fmt_when
from durable_cli.tui.screens.send_event import SendEventScreen
from durable_cli.tui.widgets.json_editor import JsonEditor

DAY_MS = 86_400_000


def _words(widget: Widget) -> str:
    """What `widget` shows, its words joined by single spaces (wrapping aside)."""
    return " ".join(shown(widget).split())


def test_a_time_on_another_day_carries_its_date() -> None:
    now = int(time.mktime((2026, 12, 1, 10, 0, 0, 0, 0, -1)) * 1000)
    assert fmt_when(now + 60_000, now) == "10:01:00"
    assert fmt_when(now + 2 * DAY_MS, now) == "Dec 3 10:00"
    assert fmt_when(now + 40 * DAY_MS, now) == "Jan 10 2027 10:00"


async def test_a_waiting_run_says_what_it_waits_for_and_until_when(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        notices: list[str] = []
        monkeypatch.setattr(main, "notify", lambda message, **_: notices.append(message))
        engine.send("test/ask", {"key": "k1"})
        run = await wait_for(
            pilot,
            lambda: (
                main.detail.detail
                and main.detail.detail["status"] == "waiting"
                and main.detail.detail
            ),
            "a waiting run",
        )
        wait = next(s for s in run["steps"] if s["id"] == "wait-answer")
        until = fmt_when(wait["meta"]["expires"], engine.clock.now_ms())
        assert until.split()[0].isalpha(), "three days away: the date is shown"
        header = await wait_for(
            pilot,
            lambda: "until" in _words(main.detail.header) and _words(main.detail.header),
            "the header",
        )
        assert 'waiting for test/answer with data.key = "k1"' in header
        assert f"until {until}" in header
        assert "s: send test/answer" in header
        assert "retry" not in header and "r:" not in header, "r does nothing for a wait"
        assert not main.check_action("retry_now", ())

        timeline = main.detail.timeline
        row = [r.key for r in timeline.rows].index("wait-answer")
        line = timeline.render_row(row, 60).plain
        assert line.startswith(ICONS["waiting"]) and ICONS["running"] not in line
        assert until in line
        # at 80 columns the timeline is 36 cells wide: the date still shows
        assert until in timeline.render_row(row, 36).plain
        timeline.cursor = row
        body = main.detail.view.query_one("#step-view-body")
        view = await wait_for(pilot, lambda: "until" in _words(body) and _words(body), "the step")
        assert view.startswith(f"wait-answer {ICONS['waiting']} waiting for test/answer")
        assert "running" not in view and "attempt" not in view

        # s offers the awaited event, with the field the wait matches on filled in
        await pilot.press("s")
        screen = await wait_for(
            pilot,
            lambda: isinstance(app.screen, SendEventScreen) and app.screen,
            "the send dialog",
        )
        assert screen.query_one("#event-name", Input).value == "test/answer"
        await wait_for(
            pilot,
            lambda: (
                screen.query_one("#event-data", JsonEditor).text.replace(" ", "")
                == '{\n"key":"k1"\n}'
            ),
            "the data to match the wait",
        )
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: engine.store.get_run(run["id"]).status == "completed",
            "the wait to end",
        )
        assert engine.store.get_run(run["id"]).output == {"key": "k1"}
        # no function is triggered by it, but a run waited for it: nothing to warn about
        assert any("Sent test/answer" in n for n in notices), notices
        assert not any("No loaded function" in n for n in notices), notices


async def test_a_sleeping_run_offers_r_with_its_wake_up_time(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
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
        wake = fmt_when(run["wake_at"], engine.clock.now_ms())
        await wait_for(
            pilot,
            lambda: f"sleeping until {wake} (r: wake now)" in _words(main.detail.header),
            "the wake-up time in the header",
        )
        assert main.check_action("retry_now", ())
        timeline = main.detail.timeline
        row = [r.key for r in timeline.rows].index("nap")
        assert timeline.render_row(row, 60).plain.startswith(ICONS["sleeping"])
