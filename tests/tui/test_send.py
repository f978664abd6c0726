"""Pilot tests: the send dialog's prefill is the journal's newest event of that name, read on a
thread so the UI loop never waits for the store."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from textual.widgets import Input
from tui_support import wait_for

from durable_cli.engine import Engine
from durable_cli.tui.app import DurableApp
from durable_cli.tui.screens.send_event import SendEventScreen
from durable_cli.tui.widgets.json_editor import JsonEditor

DURABLE = Path(sys.executable).with_name("durable")


async def _dialog(pilot: Any) -> SendEventScreen:
    await pilot.press("s")
    screen = await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, SendEventScreen) and pilot.app.screen,
        "the send dialog",
    )
    await wait_for(pilot, lambda: not screen.loading, "the prefill")
    return screen


def _data(screen: SendEventScreen) -> Any:
    return json.loads(screen.query_one("#event-data", JsonEditor).text)


async def test_a_newer_event_sent_from_the_cli_wins_over_one_sent_here(engine: Engine) -> None:
    app = DurableApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main
        screen = await _dialog(pilot)
        screen.query_one("#event-name", Input).value = "test/go"
        await pilot.pause()
        await wait_for(pilot, lambda: not screen.loading, "the prefill of test/go")
        screen.query_one("#event-data", JsonEditor).load_text('{"n": 1}')
        screen.validate()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is main, "the dialog to close")
        await wait_for(
            pilot,
            lambda: any(r.event["data"] == {"n": 1} for r in main.runs.runs),
            "the run of the event sent here",
        )
        sent = subprocess.run(
            [
                str(DURABLE),
                "send",
                "test/go",
                "--data",
                '{"n": 2}',
                "--state-dir",
                engine.store.path,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert sent.returncode == 0, sent.stderr
        await wait_for(
            pilot,
            lambda: any(r.event["data"] == {"n": 2} for r in main.runs.runs),
            "the run of the event sent from the command line",
        )
        screen = await _dialog(pilot)
        assert screen.query_one("#event-name", Input).value == "test/go"
        assert _data(screen) == {"n": 2}


async def test_the_prefill_is_read_on_a_thread_and_the_newest_name_wins(engine: Engine) -> None:
    release = threading.Event()
    threads: list[threading.Thread] = []
    done: list[str] = []

    def last_data(name: str) -> dict[str, Any]:
        threads.append(threading.current_thread())
        if name == "slow/one":
            release.wait(10)  # the store taking its time: the dialog must not wait with it
        done.append(name)
        return {"for": name}

    app = DurableApp(engine, serve=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = SendEventScreen(["slow/one", "fast/two"], "slow/one", last_data)
        await app.push_screen(screen)
        await wait_for(pilot, lambda: threads, "the first read")
        assert screen.loading
        # the dialog answers while the read is blocked: typing goes on
        name = screen.query_one("#event-name", Input)
        name.value = "fast/two"
        await wait_for(pilot, lambda: not screen.loading, "the second read")
        assert _data(screen) == {"for": "fast/two"}
        release.set()
        await wait_for(pilot, lambda: done == ["fast/two", "slow/one"], "both reads")
        await pilot.pause(0.1)  # the slow answer arrives late: it must not overwrite
        assert _data(screen) == {"for": "fast/two"}
        assert len(threads) == 2, "one read per name"
        assert threading.main_thread() not in threads
