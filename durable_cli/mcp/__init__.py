"""`durable mcp`: the Model Context Protocol over stdio, for coding agents (CONTRACT §8).

Only the `durable mcp` command imports this package, and with it the MCP SDK (the `mcp` extra):
no other command pays for it.
"""

from __future__ import annotations

from ._server import build_server, serve
from ._workspace import Workspace

__all__ = ["Workspace", "build_server", "serve"]
