"""`durable mcp --database-url`: the tools work on a PostgreSQL database as on a state dir."""

from __future__ import annotations

from mcp_support import connect


async def test_the_tools_work_on_a_database(project, pg_server):
    url = pg_server.new_database()
    async with connect(project, "--database-url", url) as client:
        sent = await client.call("send_event", name="test/three", data={"n": 1})
        assert sent
        assert await client.call("list_runs") == []  # queued: no worker has taken it in yet
        error = await client.error("get_run", run_id="nope")
        assert "nope" in error
    project.ok("worker", "--until-idle", "--idle-wait", "0.5", "--database-url", url)
    async with connect(project, "--database-url", url, "--read-only") as client:
        (run,) = await client.call("list_runs")
        assert run["status"] == "completed"
        assert run["event"]["data"] == {"n": 1}
    assert not (project.root / ".durable").exists(), "nothing went to a state dir"
