"""Driving the real `durable mcp` in a subprocess with the MCP SDK's own stdio client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from cli_support import DURABLE, Project
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


class Client:
    """One MCP session with `durable mcp`."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def tools(self) -> dict[str, Any]:
        """The tools offered, by name."""
        listed = await self.session.list_tools()
        return {tool.name: tool for tool in listed.tools}

    async def result(self, tool: str, /, **arguments: Any) -> Any:
        """The raw CallToolResult of one call."""
        return await self.session.call_tool(tool, arguments)

    async def call(self, tool: str, /, **arguments: Any) -> Any:
        """Call a tool that must succeed; its JSON result, parsed."""
        result = await self.result(tool, **arguments)
        text = result.content[0].text
        assert not result.is_error, (tool, arguments, text)
        return json.loads(text)

    async def error(self, tool: str, /, **arguments: Any) -> str:
        """Call a tool that must fail; the error's text."""
        result = await self.result(tool, **arguments)
        text = result.content[0].text
        assert result.is_error, (tool, arguments, text)
        return text

    async def run_until(
        self, run_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 20.0
    ) -> dict[str, Any]:
        """Poll get_run until `done(run)` holds (a runner works meanwhile); that run."""
        deadline = time.monotonic() + timeout
        while True:
            run = await self.call("get_run", run_id=run_id, full=True)
            if done(run):
                return run
            if time.monotonic() > deadline:
                steps = [(s["id"], s["status"]) for s in run["steps"]]
                raise AssertionError(f"timed out: run is {run['status']}, steps {steps}")
            await asyncio.sleep(0.05)


@asynccontextmanager
async def connect(project: Project, *args: str) -> AsyncIterator[Client]:
    """Start `durable mcp ARGS` in the project and open a session (its stderr kept in a file)."""
    params = StdioServerParameters(
        command=str(DURABLE), args=["mcp", *args], env=project.env, cwd=project.root
    )
    with open(project.root / "mcp-stderr.log", "a") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield Client(session)


def steps_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A run's steps by id."""
    return {step["id"]: step for step in run["steps"]}
