"""The MCP server over stdio: the tools of `_tools`, offered through the official SDK.

Each tool answers with its JSON as text (and as structured content when it is an object). A
`DurableError` becomes a tool error carrying the one-line reason the CLI prints; anything else
becomes a tool error too, with its traceback on stderr, so no call can take the server down.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from ..errors import DurableError
from ._tools import READ_ONLY, WRITING, Tools
from ._workspace import Workspace

__all__ = ["INSTRUCTIONS", "build_server", "serve"]

INSTRUCTIONS = """\
durable runs Python workflow functions step by step, journaling each step's result in a local \
state dir so a failed step retries alone and a run survives restarts. A runner (`durable dev`) \
executes the runs; these tools work with or without one up.
Typical loop: list_functions (ids, trigger event names) -> send_event -> list_runs / get_run \
(status, each step's output, error and attempts). To test failure handling: fail_step, then \
send_event. After fixing a failed step's code: replay_run with from_step (earlier steps are not \
run again). To watch a run step by step: set_step_mode, then next_step. read_docs explains the \
workflow API."""
_DESTRUCTIVE = frozenset({"cancel_run", "fail_step"})
_IDEMPOTENT = frozenset({"set_step_mode", "clear_failure"})


def build_server(workspace: Workspace, *, read_only: bool = False) -> MCPServer:
    """An MCP server offering the tools on `workspace` (with `read_only`, only the readers)."""
    from .. import __version__

    tools = Tools(workspace)
    server = MCPServer(
        "durable", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )
    for name in READ_ONLY + (() if read_only else WRITING):
        method = getattr(tools, name)
        server.add_tool(
            _answering(method),
            name=name,
            description=" ".join((inspect.getdoc(method) or "").split()),
            annotations=ToolAnnotations(
                read_only_hint=name in READ_ONLY,
                destructive_hint=name in _DESTRUCTIVE,
                idempotent_hint=name in READ_ONLY or name in _IDEMPOTENT,
                open_world_hint=False,
            ),
            structured_output=False,
        )
    return server


def serve(workspace: Workspace, *, read_only: bool = False) -> None:
    """Serve MCP on stdin/stdout until the client closes the connection."""
    build_server(workspace, read_only=read_only).run("stdio")


def _answering(method: Callable[..., Any]) -> Callable[..., CallToolResult]:
    """`method` as a tool body: its value as a JSON result, its failure as a tool error."""

    @functools.wraps(method)  # keeps the signature: the SDK builds the input schema from it
    def tool(**arguments: Any) -> CallToolResult:
        try:
            value = method(**arguments)
        except DurableError as exc:
            return _error(" ".join(str(exc).splitlines()))
        except Exception as exc:  # a bug: say so, keep serving
            traceback.print_exc(file=sys.stderr)
            return _error(f"internal error in {method.__name__}: {type(exc).__name__}: {exc}")
        # one line: the agent reads the shape of `--json`, without the indent's tokens
        text = json.dumps(value, ensure_ascii=False)
        structured = value if isinstance(value, dict) else None
        return CallToolResult(content=[TextContent(text=text)], structured_content=structured)

    return tool


def _error(reason: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=reason)], is_error=True)
