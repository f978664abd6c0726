"""`durable dev`: the runner, with the TUI or a headless log."""

from __future__ import annotations

from typing import Annotated

import typer

from ._options import STATE_DEFAULT, Paths, StateDir

__all__ = ["COMMANDS", "dev"]


def dev(
    paths: Paths = None,
    headless: Annotated[
        bool, typer.Option("--headless", help="No TUI: one log line per run/step change.")
    ] = False,
    until_idle: Annotated[
        bool,
        typer.Option(
            "--until-idle",
            help="Exit 0 once nothing is queued and no run can progress within --idle-wait.",
        ),
    ] = False,
    idle_wait: Annotated[
        float,
        typer.Option(
            "--idle-wait", metavar="SECONDS", help="Timers nearer than this keep --until-idle up."
        ),
    ] = 2.0,
    no_watch: Annotated[
        bool, typer.Option("--no-watch", help="Don't reload workflow files when they change.")
    ] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", metavar="N", help="Runs in flight at once.")
    ] = 16,
    durability: Annotated[
        str | None,
        typer.Option(
            "--durability",
            metavar="normal|full",
            help="normal: survives a crash of any process (default). full: an fsync per commit,"
            " survives power loss, costs ~2x per step. Recorded in the state dir for senders.",
        ),
    ] = None,
    state_dir: StateDir = STATE_DEFAULT,
    otlp_endpoint: Annotated[
        str | None,
        typer.Option(
            "--otlp-endpoint",
            metavar="URL",
            help="Send this process's spans (runs, steps) over OTLP/HTTP, e.g. to a local Jaeger"
            " at http://localhost:4318. Needs the otel extra.",
        ),
    ] = None,
) -> None:
    """Load workflow files, run queued events and unfinished runs, reload on change.

    Example: durable dev examples/document_pipeline.py --headless
    """
    from ._dev import run_dev  # asyncio and the engine only for the command that needs them

    if otlp_endpoint is not None:  # spans still batched go out at exit (the SDK's own hook)
        from ._otlp import start_otlp

        start_otlp(otlp_endpoint)
    code = run_dev(
        paths,
        state_dir=state_dir,
        headless=headless,
        until_idle=until_idle,
        idle_wait=idle_wait,
        watch=not no_watch,
        concurrency=concurrency,
        durability=durability,
    )
    if code:
        raise typer.Exit(code)


COMMANDS = {"dev": dev}
