"""The terminal UI of `durable dev` (Textual). Imported only by `durable dev`, never by
`import durable_cli`, the engine or `durable send`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["run_app"]


def run_app(engine: Engine, *, paths: list[str], watch: bool) -> int:
    """Run the TUI with `engine` serving inside it until the user quits; returns an exit code."""
    from .app import DurableApp

    app = DurableApp(engine, paths=paths, watch=watch)
    result = app.run()
    if app.return_code:  # the app itself failed (Textual has printed the traceback)
        return app.return_code
    return result if isinstance(result, int) else app.exit_code
