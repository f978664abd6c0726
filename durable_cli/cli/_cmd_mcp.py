"""`durable mcp`: serve the engine's queries and actions to a coding agent over stdio."""

from __future__ import annotations

from typing import Annotated

import typer

from ._mcp import serve_mcp
from ._options import STATE_DEFAULT, DatabaseUrl, Paths, StateDir

__all__ = ["COMMANDS", "mcp"]


def mcp(
    paths: Paths = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Offer only the tools that change nothing.")
    ] = False,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the Model Context Protocol over stdio, for coding agents (needs the `mcp` extra).

    Client configuration: {"command": "durable", "args": ["mcp"]}, run in the project folder.

    Example: durable mcp --read-only
    """
    code = serve_mcp(paths, state_dir, read_only, database_url)
    if code:
        raise typer.Exit(code)


COMMANDS = {"mcp": mcp}
