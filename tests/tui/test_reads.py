"""Pilot tests: the TUI reads the journal in workers, never on the UI loop it shares with the
runner, so a slow read holds up no key; a read that fails is reported and the app goes on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tui_support import T0, demo_app, seed_journal, settled, wait_for

from durable_cli.engine import Engine, VirtualClock, load_paths
from durable_cli.errors import StateError
from durable_cli.store import Store, open_store
from durable_cli.tui.screens.fail_step import FailStepScreen
from durable_cli.tui.screens.send_event import SendEventScreen
from durable_cli.tui.screens.status_filter import StatusFilterScreen

READS = frozenset(
    {
        "get_run",
        "get_runs",
        "list_runs",
        "count_runs",
        "load_steps",
        "get_event",
        "failures",
        "get_flag",
        "flags",
        "has_flags",
        "queued_count",
        "has_queued",
    }
)
GATE_S = 5.0  # how long a held read waits for the test to let it go


class WatchedStore:
    """The real store, noting the thread of every read; `hold` makes one kind of read wait."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.reads: list[tuple[str, int]] = []
        self.hold: str | None = None  # reads of this name wait for `release`
        self.release = threading.Event()
        self.held = 0  # reads waiting now
        self.fail: str | None = None  # the next read of this name raises StateError

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if name not in READS:
            return attr

        def read(*args: Any, **kwargs: Any) -> Any:
            self.reads.append((name, threading.get_ident()))
            if name == self.fail:
                self.fail = None
                raise StateError("the journal is locked by a test")
            if name == self.hold:
                self.held += 1
                try:
                    self.release.wait(GATE_S)
                finally:
                    self.held -= 1
            return attr(*args, **kwargs)

        return read

    def names(self, thread: int) -> set[str]:
        """What was read on `thread`."""
        return {name for name, ident in self.reads if ident == thread}


@pytest.fixture
def watched(tmp_path: Path, in_repo: Path, utc: None) -> Iterator[tuple[Engine, WatchedStore]]:
    """The example pipeline over the seeded journal, its store watched."""
    store = open_store(str(tmp_path / "state"))
    seed_journal(store)
    watch = WatchedStore(store)
    engine = Engine(
        watch,  # type: ignore[arg-type]
        load_paths(["examples/document_pipeline.py"]),
        clock=VirtualClock(T0 + 125_000),
    )
    yield engine, watch
    engine.close()
    store.close()


async def test_nothing_is_read_on_the_ui_loop(watched: tuple[Engine, WatchedStore]) -> None:
    engine, store = watched
    ui = threading.get_ident()  # the test's loop is the app's
    store.reads.clear()  # the engine's own, as it was made
    app = demo_app(engine)  # not serving: every read from now on is the TUI's
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        await settled(pilot)
        await pilot.press("down", "down", "up")
        await settled(pilot)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, StatusFilterScreen), "the picker")
        await pilot.press("down", "down", "enter")  # all, active, completed
        await wait_for(pilot, lambda: main.runs.filter.status == "completed", "the filter")
        await pilot.press("a")
        main.functions.focus()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: main.runs.filter.function, "the function filter")
        await settled(pilot)
        polls = len(store.reads)
        # the once-a-second look for injected failures made elsewhere
        await wait_for(pilot, lambda: len(store.reads) > polls, "the failures poll")
        main.runs.focus()
        await pilot.press("s")
        send = await wait_for(pilot, lambda: isinstance(app.screen, SendEventScreen), "send")
        await wait_for(pilot, lambda: not app.screen.loading, "its prefill")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main, "the send dialog to close")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FailStepScreen), "the fail dialog")
        await pilot.press("escape")
        await settled(pilot)
    assert send
    read = {name for name, _ in store.reads}
    assert {"list_runs", "load_steps", "count_runs", "flags", "failures"} <= read, read
    assert store.names(ui) == set(), "read on the UI loop"


async def test_keys_are_answered_while_a_read_is_held(
    watched: tuple[Engine, WatchedStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, store = watched
    app = demo_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        await settled(pilot)
        newest, _, oldest = (run.id for run in main.runs.runs)
        assert main.detail.run_id == newest
        rebuilt: list[int] = []
        refresh = main.refresh_bindings
        monkeypatch.setattr(main, "refresh_bindings", lambda: (rebuilt.append(1), refresh()))
        store.hold = "load_steps"  # the next detail read waits for the test
        await pilot.press("down")
        await wait_for(pilot, lambda: store.held == 1, "the detail read to be held")
        await pilot.press("down")  # answered while that read is still held
        assert main.runs.cursor == 2 and main.runs.selected.id == oldest
        assert store.held == 1, "the read is still held: the key did not wait for it"
        assert main.detail.run_id == newest, "the pane shows what it showed until it is read"
        # no key acts on the run shown while another is selected
        assert main.run is None and not main.check_action("rerun", ())
        assert rebuilt == [], "the footer is rebuilt once the run is read, not while it waits"
        store.release.set()
        # the newest ask wins: the run the cursor passed over is read, then the one it is on
        await wait_for(pilot, lambda: main.detail.run_id == oldest, "the oldest run")
        await settled(pilot)
        assert main.detail.detail["id"] == oldest
        assert main.run["id"] == oldest and main.check_action("rerun", ())


async def test_a_read_that_fails_is_reported_and_the_app_goes_on(
    watched: tuple[Engine, WatchedStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, store = watched
    app = demo_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        assert main is not None
        notices: list[str] = []
        monkeypatch.setattr(
            app, "notify", lambda message, **kw: notices.append(f"{kw.get('title')}: {message}")
        )
        # the screen's first look at the pending failures, a second after it mounts, reads the
        # run asked for again: it must come before the failing read, or it would read it again
        looked: list[Any] = []
        told = main.functions.failures_changed
        monkeypatch.setattr(
            main.functions, "failures_changed", lambda pending: looked.append(1) or told(pending)
        )
        await wait_for(pilot, lambda: looked, "the first look at the pending failures")
        await settled(pilot)
        shown = main.detail.run_id
        store.fail = "load_steps"
        await pilot.press("down")
        await wait_for(pilot, lambda: notices, "the report")
        assert notices == ["Can't read the journal: the journal is locked by a test"]
        await settled(pilot)
        assert main.detail.run_id == shown, "nothing read, nothing changed"
        await pilot.press("down")  # the next read works
        await wait_for(pilot, lambda: main.detail.run_id == main.runs.selected.id, "the run")
