"""Regenerate the TUI screenshots in docs/ by driving `durable dev`'s app on the example.

    python docs/make_screenshots.py

Runs the real engine on examples/document_pipeline.py in a throw-away state dir, does what a new
user does (send the sample event, step through a second run, fail classify-document, replay
from it) and saves an SVG at each stop. Ids and times differ on every run of this script.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from durable_cli.engine import Engine, load_paths
from durable_cli.store import open_store
from durable_cli.tui.app import DurableApp
from durable_cli.tui.widgets.json_editor import JsonEditor

DOCS = Path(__file__).resolve().parent
EXAMPLE = "examples/document_pipeline.py"
SAMPLE = "examples/events/document-uploaded.json"


async def until(pilot: Pilot[Any], condition: Callable[[], Any], timeout: float = 15) -> Any:
    """Let the app run until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there")
        await pilot.pause(0.05)
    return value


def status(app: DurableApp) -> str | None:
    """The selected run's status."""
    detail = app.main.detail.detail if app.main else None
    return detail["status"] if detail else None


def paused_before(app: DurableApp, step_id: str) -> bool:
    """Whether the selected run waits in step mode before `step_id`."""
    detail = app.main.detail.detail if app.main else None
    steps = {s["id"]: s["status"] for s in (detail or {}).get("steps", ())}
    return status(app) == "paused" and steps.get(step_id) == "paused"


async def shot(pilot: Pilot[Any], name: str) -> None:
    """Save the screen as docs/NAME.svg (no blinking cursor in the picture)."""
    app = pilot.app
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause(0.2)  # the footer rebuilds itself after the bindings change
    app.save_screenshot(str(DOCS / f"{name}.svg"))
    print(f"docs/{name}.svg")


async def tour(size: tuple[int, int], *, short: bool = False) -> None:
    """The new-user tour, with screenshots along the way (`short`: the first run only)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(os.path.join(tmp, "state"))
        store.lock_runner()
        engine = Engine(store, load_paths([EXAMPLE]))
        app = DurableApp(engine, paths=[EXAMPLE])
        async with app.run_test(size=size) as pilot:
            await pilot.press("s")
            await pilot.pause()
            app.screen.query_one(JsonEditor).load_text(Path(SAMPLE).read_text())
            app.screen.validate()  # type: ignore[attr-defined]
            await pilot.pause()
            if not short:
                await shot(pilot, "tui-send-event")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: status(app) == "completed")
            timeline = app.main.detail.timeline
            timeline.focus()
            timeline.cursor = [r.key for r in timeline.rows].index("classify-document")
            await pilot.pause()
            if short:
                await shot(pilot, f"tui-run-completed-{size[0]}x{size[1]}")
            else:
                await shot(pilot, "tui-run-completed")
                await second_run(pilot)
            await app.action_quit()
        engine.close()
        store.close()


async def second_run(pilot: Pilot[Any]) -> None:
    """Step through a second run, fail classify-document, replay from it."""
    app = pilot.app
    assert isinstance(app, DurableApp) and app.main is not None
    timeline = app.main.detail.timeline
    app.main.runs.focus()
    app.main.functions.highlighted = 1
    app.main.functions.focus()
    await pilot.press("T")
    app.main.runs.focus()
    await pilot.press("s")
    await pilot.pause()
    await pilot.press("ctrl+s")
    await until(pilot, lambda: paused_before(app, "validate-upload"))
    await pilot.press("n")
    await until(pilot, lambda: paused_before(app, "summarize-content"))
    await pilot.press("n")
    await until(pilot, lambda: paused_before(app, "classify-document"))
    await pilot.press("x")
    await pilot.pause()
    await pilot.press(*"model overloaded")
    await shot(pilot, "tui-fail-step")
    await pilot.press("ctrl+n")
    await pilot.pause()
    await pilot.press("n")
    await until(
        pilot,
        lambda: (
            paused_before(app, "classify-document")
            and app.main.detail.detail["steps"][2]["attempts"] == 1
        ),
    )
    await shot(pilot, "tui-step-mode")
    await pilot.press("n")
    await until(pilot, lambda: paused_before(app, "save-results"))
    await pilot.press("t")  # let it finish on its own
    await until(pilot, lambda: status(app) == "completed")
    await pilot.press("T")
    timeline.focus()
    timeline.cursor = [r.key for r in timeline.rows].index("classify-document")
    await pilot.press("p")
    await until(
        pilot,
        lambda: app.main.detail.detail["replay_of"] is not None and status(app) == "completed",
    )
    await shot(pilot, "tui-replay")


def main() -> None:
    """Take the screenshots at 100x30, then the completed run at 80x24."""
    os.chdir(DOCS.parent)
    sys.path.insert(0, str(DOCS.parent))
    asyncio.run(tour((100, 30)))
    asyncio.run(tour((80, 24), short=True))


if __name__ == "__main__":
    main()
