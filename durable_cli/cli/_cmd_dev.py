"""`durable dev` (the runner, with the TUI or a headless log) and `durable worker` (a headless
runner for production: any number of them on one database)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..engine import DEFAULT_LEASE_S
from ._options import (
    STATE_DEFAULT,
    Concurrency,
    DatabaseUrl,
    IdleWait,
    Lease,
    Paths,
    StateDir,
    UntilIdle,
)

__all__ = ["COMMANDS", "dev", "worker"]


def dev(
    paths: Paths = None,
    headless: Annotated[
        bool, typer.Option("--headless", help="No TUI: one log line per run/step change.")
    ] = False,
    until_idle: UntilIdle = False,
    idle_wait: IdleWait = 2.0,
    no_watch: Annotated[
        bool, typer.Option("--no-watch", help="Don't reload workflow files when they change.")
    ] = False,
    concurrency: Concurrency = 16,
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
    database_url: DatabaseUrl = None,
    lease: Lease = DEFAULT_LEASE_S,
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

    With --database-url: one more worker on that database, and the TUI shows every worker's runs.

    Example: durable dev examples/document_pipeline.py --headless
    """
    from ._dev import run_dev  # asyncio and the engine only for the command that needs them

    if otlp_endpoint is not None:  # spans still batched go out at exit (the SDK's own hook)
        from ._otlp import start_otlp

        start_otlp(otlp_endpoint)
    code = run_dev(
        paths,
        state_dir=state_dir,
        database_url=database_url,
        headless=headless,
        until_idle=until_idle,
        idle_wait=idle_wait,
        watch=not no_watch,
        concurrency=concurrency,
        durability=durability,
        lease_s=lease,
    )
    if code:
        raise typer.Exit(code)


def worker(
    paths: Paths = None,
    concurrency: Concurrency = 16,
    until_idle: UntilIdle = False,
    idle_wait: IdleWait = 2.0,
    lease: Lease = DEFAULT_LEASE_S,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Run the workflows headless: one log line per run/step change. For production.

    On a database, any number of workers on any machines share the work: a run executes on one
    at a time, and a worker that dies has its runs resumed by another within --lease. A worker
    that loses the database keeps retrying and carries on when it is back. On a state dir it is
    the single runner. SIGINT or SIGTERM stops it, giving its runs up at once.

    Example: durable worker workflows/ --database-url postgresql://durable@db.internal/durable
    """
    from ._dev import run_dev

    code = run_dev(
        paths,
        state_dir=state_dir,
        database_url=database_url,
        headless=True,
        until_idle=until_idle,
        idle_wait=idle_wait,
        watch=False,  # a deployment restarts its workers to put new code live
        concurrency=concurrency,
        lease_s=lease,
        command="worker",
    )
    if code:
        raise typer.Exit(code)


COMMANDS = {"dev": dev, "worker": worker}
