"""The `durable` command: typer commands that parse, call the engine or store, and print.

`main` sends the common `durable send` and `durable mcp` shapes down paths that skip typer's
import (see `_send.fast_send`, `_mcp.fast_mcp`); everything else goes through the typer app in
`_app`.
"""

from __future__ import annotations

import sys

from ..errors import DurableError
from ._send import fast_send

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `durable` console script; exits with the command's code."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = fast_send(args)
        if code is None and args[:1] == ["mcp"]:
            from ._mcp import fast_mcp  # the SDK's start-up is enough to wait for: no typer

            code = fast_mcp(args)
        if code is None:
            from ._app import run

            code = run(args)
    except DurableError as exc:
        # bad input or unusable state: one line, no traceback (anything else is a bug)
        message = " ".join(str(exc).splitlines())
        print(f"error: {message}", file=sys.stderr)
        code = 2
    sys.stdout.flush()
    sys.exit(code)
