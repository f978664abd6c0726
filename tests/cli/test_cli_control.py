"""fail, replay and cancel from the command line, with and without a runner up."""

from __future__ import annotations


def _step(detail, step_id):
    return next(s for s in detail["steps"] if s["id"] == step_id)


def test_fail_for_a_function_fails_the_next_attempts_without_calling_the_code(project):
    project.add("docs.py")
    project.ok(
        "fail", "classify-document", "--function", "process-uploaded-document", "--times", "2"
    )
    project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle()

    detail = project.json("show", project.json("runs")[0]["id"])
    classify = _step(detail, "classify-document")
    assert detail["status"] == "completed"
    assert classify["status"] == "completed"
    assert classify["attempts"] == 3
    assert project.calls("classify-document") == 1


def test_fail_for_one_run_with_a_message(project):
    project.add("flaky.py")
    project.send("test/fail", {"delay": 1})
    project.run_until_idle()  # boom failed once; its retry is a second away
    run_id = project.json("runs")[0]["id"]
    assert project.json("show", run_id)["status"] == "retrying"

    project.ok("fail", "boom", "--run", run_id, "--message", "disk full")
    project.run_until_idle("--idle-wait", "10")  # stays up for the retry, which is injected

    boom = _step(project.json("show", run_id), "boom")
    assert boom["attempts"] == 2
    assert boom["attempt_log"][1]["injected"] is True
    assert boom["error"]["message"] == "disk full"
    assert project.calls("boom") == 1


def test_replay_from_a_step_reuses_the_earlier_results(project):
    project.add("docs.py")
    project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle()
    original = project.json("runs")[0]["id"]

    new_id = project.ok("replay", original, "--from", "classify-document")
    assert new_id != original
    assert project.json("show", new_id)["status"] == "queued"
    project.run_until_idle()

    replayed = project.json("show", new_id)
    assert replayed["status"] == "completed"
    assert replayed["replay_of"] == original
    assert [s["status"] for s in replayed["steps"]] == ["completed"] * 5
    assert _step(replayed, "validate-upload")["copied_from"] == original
    assert _step(replayed, "classify-document")["copied_from"] is None
    calls = {s: project.calls(s) for s in ("validate-upload", "summarize-content")}
    assert calls == {"validate-upload": 1, "summarize-content": 1}
    assert project.calls("classify-document") == 2
    assert project.calls("notify-success") == 2


def test_cancel_stops_a_run_waiting_for_a_retry(project):
    project.add("flaky.py")
    # the runner stays up until the retry timer (3 s away) has fired, then ends on its own
    runner = project.dev("--until-idle", "--idle-wait", "30", "--no-watch")
    project.send("test/fail", {"delay": 3})
    line = runner.wait_for_line(lambda line: "always-fails" in line and " retrying" in line)
    run_id = line.split()[1]

    assert project.ok("cancel", run_id) == f"cancelled {run_id}"
    assert runner.wait(30) == 0
    assert project.json("show", run_id)["status"] == "cancelled"
    assert project.calls("boom") == 1
