"""Runner killed with SIGKILL: no event lost or run twice, completed steps not run again."""

from __future__ import annotations

import signal


def test_kill_inside_the_intake_transaction_loses_and_duplicates_nothing(project):
    project.add("docs.py", "claim_crash.py")
    sent = [project.send("api/document.uploaded", {"n": i}) for i in range(3)]

    crashed = project.dev("--no-watch", DURABLE_TEST_CRASH_IN_CLAIM="1")
    assert crashed.wait() == -signal.SIGKILL
    assert project.json("runs") == []  # the half-done intake was rolled back

    project.run_until_idle()
    runs = project.json("runs")
    assert sorted(r["event"]["id"] for r in runs) == sorted(sent)
    assert {r["status"] for r in runs} == {"completed"}
    assert project.calls("validate-upload") == 3


def test_runner_killed_mid_step_resumes_that_step_only(project):
    project.add("crashy.py")
    event_id = project.send("test/crash")

    crashed = project.dev("--no-watch")
    assert crashed.wait() == -signal.SIGKILL  # the step killed its own runner
    run = project.json("runs")[0]
    assert run["status"] == "running"

    project.run_until_idle()  # a stale lock from the killed runner is taken over
    runs = project.json("runs")
    assert [r["event"]["id"] for r in runs] == [event_id]
    detail = project.json("show", run["id"])
    assert detail["status"] == "completed"
    assert detail["output"] == 2
    assert (project.calls("before"), project.calls("boom"), project.calls("after")) == (1, 2, 1)
