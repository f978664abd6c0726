"""Pilot tests: every key a dialog offers works whichever of its fields has the focus.

A text box takes keys for its own editing (ctrl+e is end-of-line in an Input): a dialog's keys
must win there too, or a key the dialog shows silently does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from tui_support import wait_for

from durable_cli.store import PendingFailure
from durable_cli.tui.screens.confirm import ConfirmScreen
from durable_cli.tui.screens.fail_step import FailRequest, FailStepScreen
from durable_cli.tui.screens.file_picker import FilePickerScreen
from durable_cli.tui.screens.replay_data import ReplayDataScreen, ReplayRequest
from durable_cli.tui.screens.send_event import SendEventScreen, SendRequest
from durable_cli.tui.screens.status_filter import StatusFilterScreen

Outcome = Callable[[App[Any], list[Any]], bool]


def _fail_dialog() -> FailStepScreen:
    pending = [PendingFailure("two", "RUN1", None, -1)]
    return FailStepScreen("two", ["one", "two"], "RUN1", "pipeline", run_live=True, pending=pending)


def _send_dialog() -> SendEventScreen:
    return SendEventScreen(["test/go"], "test/go", lambda name: None)


def _replay_dialog() -> ReplayDataScreen:
    return ReplayDataScreen("Rerun", "Sure?", {"name": "test/go", "data": {"n": 1}})


def _picker(tmp: Path) -> FilePickerScreen:
    return FilePickerScreen(str(tmp))


def _result(check: Callable[[Any], bool]) -> Outcome:
    return lambda app, results: bool(results) and check(results[-1])


def _fail_times(times: int) -> Outcome:
    return _result(lambda r: isinstance(r, FailRequest) and r.times == times and not r.clear)


CASES: dict[str, tuple[Callable[[Path], Screen[Any]], str, Outcome]] = {
    "fail: escape cancels": (lambda _: _fail_dialog(), "escape", _result(lambda r: r is None)),
    "fail: ^n next attempt": (lambda _: _fail_dialog(), "ctrl+n", _fail_times(1)),
    "fail: ^e every attempt": (lambda _: _fail_dialog(), "ctrl+e", _fail_times(-1)),
    "fail: ^r removes": (
        lambda _: _fail_dialog(),
        "ctrl+r",
        _result(lambda r: isinstance(r, FailRequest) and r.clear and r.run_id == "RUN1"),
    ),
    "send: escape cancels": (lambda _: _send_dialog(), "escape", _result(lambda r: r is None)),
    "send: ^s sends": (
        lambda _: _send_dialog(),
        "ctrl+s",
        _result(lambda r: isinstance(r, SendRequest) and r.name == "test/go"),
    ),
    "send: ^o opens the file picker": (
        lambda _: _send_dialog(),
        "ctrl+o",
        lambda app, results: isinstance(app.screen, FilePickerScreen),
    ),
    "confirm: y": (lambda _: ConfirmScreen("Rerun", "Sure?"), "y", _result(lambda r: r is True)),
    "confirm: n": (lambda _: ConfirmScreen("Rerun", "Sure?"), "n", _result(lambda r: r is False)),
    "confirm: escape": (
        lambda _: ConfirmScreen("Rerun", "Sure?"),
        "escape",
        _result(lambda r: r is False),
    ),
    "replay: escape cancels": (lambda _: _replay_dialog(), "escape", _result(lambda r: r is None)),
    "replay: ^s replays": (
        lambda _: _replay_dialog(),
        "ctrl+s",
        _result(lambda r: isinstance(r, ReplayRequest) and r.data is None),  # as it was
    ),
    "filter: escape": (lambda _: StatusFilterScreen("all"), "escape", _result(lambda r: r is None)),
    "picker: escape": (_picker, "escape", _result(lambda r: r is None)),
}


class Host(App[None]):
    """Nothing but the dialogs pushed onto it."""


async def _ready(pilot: Any, dialog: Screen[Any]) -> None:
    await wait_for(pilot, lambda: dialog.is_attached and dialog.focus_chain, "the dialog")
    if isinstance(dialog, SendEventScreen):  # its name's last data is read on a thread
        await wait_for(pilot, lambda: not dialog.loading, "the prefill")


@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_dialog_key_works_from_every_field(case: str, tmp_path: Path) -> None:
    make, key, happened = CASES[case]
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        probe = make(tmp_path)
        app.push_screen(probe)
        await _ready(pilot, probe)
        fields = len(probe.focus_chain)
        app.pop_screen()
        assert fields >= 1
        for index in range(fields):
            results: list[Any] = []
            dialog = make(tmp_path)
            app.push_screen(dialog, results.append)
            await _ready(pilot, dialog)
            field = dialog.focus_chain[index]
            field.focus()
            await wait_for(pilot, lambda: dialog.focused is field, "the focus")  # noqa: B023
            where = f"{key} from {type(field).__name__}#{field.id}"
            await pilot.press(key)
            await wait_for(pilot, lambda: happened(app, results), where, timeout=30)  # noqa: B023
            while len(app.screen_stack) > 1:
                app.pop_screen()
