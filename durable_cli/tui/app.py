"""The Textual app behind `durable dev`: runs the engine on the app's own asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..engine import Engine, Reloader
from .bridge import EngineBridge
from .commands import palette_commands
from .screens.main import MainScreen

__all__ = ["DurableApp"]

_DRAIN_S = 0.5  # on quit, how long steps in flight get to journal their result


class DurableApp(App[int]):
    """Watch, send, step through, fail and replay runs while the engine serves them."""

    CSS_PATH = "app.tcss"
    TITLE = "durable dev"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit", priority=False),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        engine: Engine,
        *,
        paths: list[str] | None = None,
        watch: bool = False,
        serve: bool = True,
    ) -> None:
        """Drive `engine`; watch `paths` for changes when `watch`; `serve=False` only shows."""
        super().__init__()
        self.engine = engine
        self.paths = list(paths or ())
        self.watch = watch
        self.serve = serve
        self.stop_event = asyncio.Event()
        self.bridge: EngineBridge | None = None
        self.main: MainScreen | None = None
        self._serve_worker: Worker[None] | None = None
        self._stopping = False
        self.exit_code = 0

    def on_mount(self) -> None:
        self.bridge = EngineBridge(self, asyncio.get_running_loop())
        self.engine.add_listener(self.bridge)
        self.main = MainScreen(self.engine, watching=self.watch)
        self.push_screen(self.main)
        # step threads hold the GIL for up to a switch interval at a time; a shorter one lets
        # the UI thread answer keys promptly while many runs execute
        sys.setswitchinterval(0.001)
        # the widget tree and loaded modules live as long as the app: keep them out of the
        # collector's full passes, which otherwise stall the shared loop long enough to feel
        self.call_after_refresh(gc.freeze)
        if self.serve:
            # the reloader first: its first turn arms the OS watch before the engine's first
            # turn starts queued runs, so a file saved as soon as they show is not missed
            if self.watch and self.paths:
                self.run_worker(
                    Reloader(self.engine, self.paths).run(self.stop_event),
                    name="reloader",
                    group="engine",
                    exit_on_error=False,
                )
            self._serve_worker = self.run_worker(
                self._serve(), name="engine", group="engine", exit_on_error=False
            )

    async def _serve(self) -> None:
        await self.engine.serve(stop=self.stop_event)

    def on_engine_bridge_changes(self, message: EngineBridge.Changes) -> None:
        if self.main is not None:
            self.main.apply_changes(message.changes)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "engine" or event.state != WorkerState.ERROR:
            return
        error = f"{type(worker.error).__name__}: {worker.error}"
        if self.main is not None:
            if worker.name == "engine":
                self.main.status.engine_error = error
                self.main.status.redraw()
            self.notify(error, title=f"{worker.name} stopped", severity="error", timeout=30)
        if worker.name == "engine":
            self.exit_code = 1

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: every action the main screen offers now, then Textual's own."""
        if isinstance(screen, MainScreen):
            yield from palette_commands(screen)
        yield from super().get_system_commands(screen)

    async def action_quit(self) -> None:
        """Stop the engine (runs stay resumable), then leave."""
        if self._stopping:
            self.exit(self.exit_code)
            return
        self._stopping = True
        await self.shutdown_engine()
        self.exit(self.exit_code)

    async def shutdown_engine(self) -> None:
        """Stop serving and give steps in flight a moment to journal; idempotent."""
        self.stop_event.set()
        worker = self._serve_worker
        if worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
            # a stuck or failed runner must not block quitting
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.wait(), timeout=_DRAIN_S)
        if self.serve:
            await self.engine.drain(timeout=_DRAIN_S)
        if self.bridge is not None:
            self.engine.remove_listener(self.bridge)
            self.bridge.close()

    async def on_unmount(self) -> None:
        self.stop_event.set()
        if self.bridge is not None:
            self.engine.remove_listener(self.bridge)
            self.bridge.close()
