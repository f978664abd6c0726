"""`durable mcp` without typer: the MCP SDK's import is most of the command's start-up, and an
agent's client waits for it at every launch, so the everyday invocation skips typer's import
(`fast_mcp`, as `durable send` does); help, typos and unknown options go to the typer command,
which calls the same `serve_mcp`."""

from __future__ import annotations

import functools

from ..errors import InputError
from ._config import configured_paths, default_state_dir, workflow_paths
from ._state import Given, where

__all__ = ["fast_mcp", "serve_mcp"]

_NEEDS_SDK = "durable mcp needs the MCP SDK: pip install 'durable-cli[mcp]'"


def serve_mcp(
    paths: list[str] | None, state_dir: str, read_only: bool, database_url: str | None = None
) -> int:
    """Serve MCP over stdio on `database_url`, else `state_dir`, until the client hangs up; the
    exit code."""
    configured_paths()  # a broken pyproject.toml is bad input now, not at the first call
    try:
        from ..mcp import Workspace, serve  # the SDK: only this command imports it
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "mcp":
            raise
        raise InputError(_NEEDS_SDK) from None
    place = where(state_dir, database_url)
    workspace = Workspace(
        place.state_dir or state_dir,
        functools.partial(workflow_paths, paths or None),
        place.database_url,
    )
    try:
        serve(workspace, read_only=read_only)
    except KeyboardInterrupt:  # Ctrl-C where someone ran it by hand: no traceback
        return 130
    return 0


def fast_mcp(argv: list[str]) -> int | None:
    """Run `mcp [PATH...] [--state-dir D] [--read-only]` without typer; None: not that shape."""
    if not argv or argv[0] != "mcp":
        return None
    paths: list[str] = []
    state_dir: str | None = None
    read_only = False
    args = iter(argv[1:])
    for arg in args:
        flag, eq, value = arg.partition("=")
        if arg == "--read-only" and not read_only:
            read_only = True
        elif flag == "--state-dir" and state_dir is None:
            if not eq:
                value = next(args, "")
            if not value:
                return None
            state_dir = Given(value)  # typed: it beats $DURABLE_DATABASE_URL, as in typer's
        elif arg.startswith("-"):
            return None
        else:
            paths.append(arg)
    return serve_mcp(paths, state_dir or default_state_dir(), read_only)
