"""`durable mcp` driving runs: inject a failure, send, drain a runner, replay, retry, step through.

The runners are the real `durable dev --headless` in their own processes, as an agent's would be.
"""

from __future__ import annotations

from helpers import wait_until
from mcp_support import connect, steps_of

from durable_cli.store import runner_pid

NO_RUNNER = "no runner is up"


async def test_injected_failure_then_event_then_drain_shows_the_retried_step(project):
    async with connect(project) as client:
        pending = await client.call(
            "fail_step", step_id="second", function="three-steps", message="injected boom"
        )
        assert pending["function"] == "three-steps" and pending["times"] == 1
        sent = await client.call("send_event", name="test/three", data={"tag": "t1"})
        assert NO_RUNNER in sent["note"]
        project.run_until_idle()
        [listed] = await client.call("list_runs", function="three-steps")
        run = await client.call("get_run", run_id=listed["id"])
    assert run["status"] == "completed" and run["event"]["id"] == sent["event_id"]
    second = steps_of(run)["second"]
    assert second["status"] == "completed" and second["attempts"] == 2
    first_try = second["attempt_log"][0]
    assert first_try["injected"] and first_try["error"]["message"] == "injected boom"
    assert steps_of(run)["first"]["attempts"] == 1
    assert run["pending_failures"] == []
    assert project.calls("second") == 1  # the injected attempt never called the step's code


async def test_replay_from_a_step_runs_only_the_later_steps_with_new_data(project):
    project.send("test/three", {"tag": "old"})
    project.run_until_idle()
    assert [project.calls(s) for s in ("first", "second", "third")] == [1, 1, 1]
    async with connect(project) as client:
        [original] = await client.call("list_runs")
        new = await client.call(
            "replay_run", run_id=original["id"], from_step="second", data={"tag": "new"}
        )
        assert new["status"] == "queued" and new["replay_of"] == original["id"]
        assert NO_RUNNER in new["note"]
        project.run_until_idle()
        replayed = await client.call("get_run", run_id=new["id"])
        error = await client.error("replay_run", run_id=original["id"], from_step="fourth")
    assert [project.calls(s) for s in ("first", "second", "third")] == [1, 2, 2]
    assert replayed["status"] == "completed" and replayed["output"] == {"tag": "new"}
    assert replayed["event"]["data"] == {"tag": "new"}
    assert replayed["event"]["name"] == "test/three"
    assert replayed["event"]["id"] != original["event"]["id"]
    assert steps_of(replayed)["first"]["copied_from"] == original["id"]
    assert steps_of(replayed)["second"]["copied_from"] is None
    assert error == f"run {original['id']} has no step 'fourth' (its steps: first, second, third)"


async def test_retry_now_with_no_runner_up_says_so_and_the_next_runner_goes_on(project):
    async with connect(project) as client:
        await client.call("fail_step", step_id="work", function="slow-retry")
        await client.call("send_event", name="test/slow")
        project.run_until_idle()  # the retry is an hour away: idle
        [run] = await client.call("list_runs")
        assert run["status"] == "retrying"
        retried = await client.call("retry_now", run_id=run["id"])
        assert retried["status"] == "queued" and NO_RUNNER in retried["note"]
        reason = await client.error("retry_now", run_id=run["id"])
        assert reason == f"run {run['id']} is queued, not retrying or sleeping"
        project.run_until_idle()
        done = await client.call("get_run", run_id=run["id"])
    assert done["status"] == "completed" and steps_of(done)["work"]["attempts"] == 2


async def test_a_runner_up_takes_retry_now_and_step_mode_at_once(project):
    runner = project.dev("--no-watch")
    wait_until(lambda: runner_pid(str(project.state)) == runner.proc.pid, what="the runner up")
    async with connect(project) as client:
        # retry now: the runner holds a retry an hour away, and takes it when told
        await client.call("fail_step", step_id="work", function="slow-retry")
        await client.call("send_event", name="test/slow")
        [slow] = await client.call("list_runs", function="slow-retry")
        slow = await client.run_until(slow["id"], lambda r: r["status"] == "retrying")
        retried = await client.call("retry_now", run_id=slow["id"])
        assert "note" not in retried  # a runner is up
        await client.run_until(slow["id"], lambda r: r["status"] == "completed")

        # step mode: new runs of the function pause before each step; next_step lets one go
        assert await client.call("set_step_mode", function="three-steps", on=True) == {
            "function": "three-steps",
            "step_mode": True,
        }
        await client.call("send_event", name="test/three", data={"tag": "s"})
        [run] = await client.call("list_runs", function="three-steps")
        run = await client.run_until(run["id"], lambda r: r["status"] == "paused")
        assert [(s["id"], s["status"]) for s in run["steps"]] == [("first", "paused")]
        stepped = await client.call("next_step", run_id=run["id"])
        assert "note" not in stepped
        run = await client.run_until(
            run["id"], lambda r: [s["status"] for s in r["steps"]] == ["completed", "paused"]
        )
        assert project.calls("first") == 1 and project.calls("second") == 0
        await client.call("set_step_mode", run_id=run["id"], on=False)
        run = await client.run_until(run["id"], lambda r: r["status"] == "completed")
        assert run["output"] == {"tag": "s"}
        assert "not paused in step mode" in await client.error("next_step", run_id=run["id"])
    assert runner.stop() in (0, 130)
