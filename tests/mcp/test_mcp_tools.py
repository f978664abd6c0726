"""`durable mcp`: the tools offered, their schemas, read-only mode, errors as the CLI words them."""

from __future__ import annotations

import json

from cli_support import REPO, state_snapshot
from mcp_support import connect

from durable_cli.mcp._tools import READ_ONLY, WRITING

CONTRACT_TOOLS = {
    "list_functions": set(),
    "send_event": {"name", "data"},
    "list_runs": {"function", "status", "limit"},
    "get_run": {"run_id"},
    "replay_run": {"run_id", "from_step", "data"},
    "cancel_run": {"run_id"},
    "fail_step": {"step_id", "function", "run_id", "times", "message"},
    "retry_now": {"run_id"},
    "export_run": {"run_id"},
}


async def test_tools_are_listed_with_descriptions_and_typed_schemas(project):
    async with connect(project) as client:
        tools = await client.tools()
    assert set(tools) == {*READ_ONLY, *WRITING}
    for name, arguments in CONTRACT_TOOLS.items():
        schema = tools[name].input_schema
        assert schema["type"] == "object"
        assert arguments <= set(schema["properties"]), (name, schema["properties"])
    for name, tool in tools.items():
        assert len(tool.description) > 100, name  # what it does, when, what comes back
        for prop, spec in tool.input_schema["properties"].items():
            assert spec.get("description"), (name, prop)
    assert tools["get_run"].input_schema["required"] == ["run_id"]
    assert tools["send_event"].input_schema["required"] == ["name"]
    assert tools["fail_step"].input_schema["properties"]["times"]["type"] == "integer"
    assert tools["list_runs"].input_schema["properties"]["limit"]["minimum"] == 1
    assert tools["list_runs"].annotations.read_only_hint is True
    assert tools["cancel_run"].annotations.read_only_hint is False


async def test_read_only_offers_no_writing_tool(project):
    project.send("test/three")
    project.run_until_idle()
    run_id = project.json("runs")[0]["id"]
    before = state_snapshot(project.state)
    async with connect(project, "--read-only") as client:
        tools = await client.tools()
        assert set(tools) == set(READ_ONLY)
        assert all(tool.annotations.read_only_hint for tool in tools.values())
        for tool, arguments in [
            ("send_event", {"name": "test/three"}),
            ("replay_run", {"run_id": run_id}),
            ("fail_step", {"step_id": "first", "function": "three-steps"}),
        ]:
            assert tool in await client.error(tool, **arguments)
        assert (await client.call("get_run", run_id=run_id))["status"] == "completed"
    assert state_snapshot(project.state) == before


async def test_unknown_run_id_is_a_tool_error_with_the_cli_reason(project):
    project.send("test/three")
    project.run_until_idle()
    cli = project.cli("show", "no-such-run")
    assert cli.returncode == 2
    reason = cli.stderr.strip().removeprefix("error: ")
    async with connect(project) as client:
        for tool in ("get_run", "export_run", "cancel_run", "replay_run", "retry_now"):
            assert await client.error(tool, run_id="no-such-run") == reason, tool
        assert await client.error("next_step", run_id="no-such-run") == reason


async def test_bad_arguments_get_the_cli_reasons_and_write_nothing(project):
    async with connect(project) as client:
        assert await client.error("send_event", name="bad name") == (
            project.cli("send", "bad name").stderr.strip().removeprefix("error: ")
        )
        assert await client.error("list_runs", status="done") == (
            project.cli("runs", "--status", "done").stderr.strip().removeprefix("error: ")
        )
        reason = await client.error("fail_step", step_id="second", function="no-such-fn")
        assert reason == "no function with id 'no-such-fn'"
        assert "say which run" in await client.error("fail_step", step_id="second")
        assert await client.error("fail_step", step_id="x", function="three-steps", times=0) == (
            "--times must be 1 or more"
        )
    assert not project.state.exists()


async def test_functions_runs_and_export_are_shaped_like_the_cli_json(project):
    project.send("test/three", {"tag": "a"})
    project.run_until_idle()
    run_id = project.json("runs")[0]["id"]
    async with connect(project) as client:
        assert await client.call("list_functions") == project.json("functions")
        assert await client.call("list_runs") == project.json("runs")
        assert await client.call("list_runs", function="three-steps", limit=1) == project.json(
            "runs", "--function", "three-steps", "--limit", "1"
        )
        assert await client.call("get_run", run_id=run_id) == project.json("show", run_id)
        exported = await client.call("export_run", run_id=run_id[-6:])
    shown = project.json("show", run_id)
    assert exported["format"] == "durable-run" and exported["version"] == 1
    assert exported["event"] == shown["event"] and exported["steps"] == shown["steps"]
    assert exported["run"]["id"] == run_id and exported["run"]["output"] == {"tag": "a"}
    assert "event" not in exported["run"] and "steps" not in exported["run"]


async def test_get_run_cuts_long_values_and_says_how_to_get_them(project):
    project.send("test/big", {"size": 50_000})
    project.run_until_idle()
    run_id = project.json("runs")[0]["id"]
    async with connect(project) as client:
        cut = await client.call("get_run", run_id=run_id)
        whole = await client.call("get_run", run_id=run_id, full=True)
    output = cut["steps"][0]["output"]
    assert len(output) < 2_100 and "characters cut" in output
    assert cut["truncated"]["cut"] == ["steps[0].output (50000 characters)"]
    assert "full=true" in cut["truncated"]["how_to_get_all"]
    assert whole["steps"][0]["output"] == "x" * 50_000 and "truncated" not in whole


async def test_read_docs_lists_sections_and_reads_one(project):
    async with connect(project) as client:
        listed = await client.call("read_docs")
        names = {s["section"] for s in listed["sections"]}
        assert {"overview", "step-tools", "command-line", "testing"} <= names
        testing = await client.call("read_docs", section="testing")
        assert testing["source"] == "docs/testing.md"
        assert "run_function" in testing["text"]
        step_tools = await client.call("read_docs", section="Step tools")
        assert step_tools["text"].startswith("## Step tools") and "step.sleep" in step_tools["text"]
        assert "use one of" in await client.error("read_docs", section="no-such-section")


async def test_the_readme_client_configuration_starts_the_server(project):
    text = (REPO / "README.md").read_text()
    section = text.split("## Coding agents: MCP", 1)[1]
    config = json.loads(section.split("```json", 1)[1].split("```", 1)[0])
    server = config["mcpServers"]["durable"]
    assert server["command"] == "durable"
    async with connect(project, *server["args"][1:]) as client:  # `connect` runs `durable mcp`
        assert set(await client.tools()) == {*READ_ONLY, *WRITING}
