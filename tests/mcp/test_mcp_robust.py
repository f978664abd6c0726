"""`durable mcp` keeps serving through malformed calls, and only its command imports the SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from cli_support import DURABLE
from helpers import wait_until
from mcp_support import connect


async def test_the_server_survives_malformed_calls_and_answers_the_next(project):
    project.send("test/three")
    project.run_until_idle()
    async with connect(project) as client:
        assert "run_id" in await client.error("get_run")  # a required argument missing
        assert "limit" in await client.error("list_runs", limit="many")  # a wrong type
        assert "limit" in await client.error("list_runs", limit=0)  # out of range
        assert "data" in await client.error("send_event", name="test/three", data=[1, 2])
        assert "no_such_tool" in await client.error("no_such_tool")
        runs = await client.call("list_runs")
    assert [run["status"] for run in runs] == ["completed"]
    assert "Traceback" not in (project.root / "mcp-stderr.log").read_text()


def test_the_server_survives_a_line_that_is_not_json(project):
    """Below the SDK's client: raw protocol lines, one of them garbage."""
    proc = subprocess.Popen(
        [str(DURABLE), "mcp"],
        cwd=project.root,
        env=project.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    answers: dict[int, dict] = {}

    def send(message: dict | str) -> None:
        proc.stdin.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
        proc.stdin.flush()

    def answer(request_id: int) -> dict:
        def read() -> dict | None:
            while request_id not in answers:
                message = json.loads(proc.stdout.readline())
                if "id" in message:
                    answers[message["id"]] = message
            return answers[request_id]

        return wait_until(read, 30, what=f"the answer to request {request_id}")

    try:
        send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "0"},
                },
            }
        )
        assert answer(1)["result"]["serverInfo"]["name"] == "durable"
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send("this is not JSON {")
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": 42}})
        send({"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
        assert "error" in answer(2)
        tools = {tool["name"] for tool in answer(3)["result"]["tools"]}
        assert "get_run" in tools
        assert proc.poll() is None
    finally:
        proc.stdin.close()
        code = proc.wait(20)
    assert code == 0  # the client hung up: a clean exit


def test_only_the_mcp_command_imports_the_sdk(project):
    code = textwrap.dedent(
        """
        import sys
        import durable_cli, durable_cli.cli, durable_cli.engine
        from durable_cli.cli import main
        for argv in (["runs", "--json"], ["functions", "--json"], ["send", "test/three"],
                     ["fail", "--list"], ["mcp", "--help"]):
            try:
                main(argv)
            except SystemExit as exc:
                assert exc.code == 0, (argv, exc.code)
        ours = ("mcp", "mcp_types")
        print(sorted(m for m in sys.modules if m.split(".")[0] in ours or "durable_cli.mcp" in m))
        """
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(
        command, cwd=project.root, env=project.env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_without_the_sdk_the_command_says_how_to_install_it(project, tmp_path):
    # a stand-in `mcp` package that is not there, as when the extra was not installed
    fake = tmp_path / "no-sdk" / "mcp"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'mcp'\", name='mcp')\n"
    )
    path = os.pathsep.join([str(fake.parent), project.env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = project.cli("mcp", PYTHONPATH=path)
    assert done.returncode == 2
    assert done.stderr == "error: durable mcp needs the MCP SDK: pip install 'durable-cli[mcp]'\n"
    assert done.stdout == ""


def test_the_everyday_launch_skips_typer(project):
    """An agent's client launches `durable mcp` often: the SDK's import is enough to wait for."""
    code = textwrap.dedent(
        """
        import sys
        from durable_cli.cli import main
        try:
            main(["mcp", "--state-dir", "elsewhere", "--read-only"])  # stdin is empty: it ends
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        print("typer" in sys.modules, "mcp.server.mcpserver" in sys.modules)
        """
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(
        command, cwd=project.root, env=project.env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
