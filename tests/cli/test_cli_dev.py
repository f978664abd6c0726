"""`durable dev` as a process: stopping it, hot reload, pyproject paths, concurrency."""

from __future__ import annotations

import signal

import pytest
from helpers import wait_until


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_stopping_mid_step_exits_at_once_and_the_run_resumes(project, sig, code):
    project.add("slow.py")
    runner = project.dev("--no-watch")
    project.send("test/slow")
    wait_until(lambda: project.calls("slow") == 1, what="the slow step to start")

    assert runner.stop(sig, timeout=10) == code  # the step sleeps a minute: not waited for
    assert "Traceback" not in runner.stderr
    assert project.json("runs")[0]["status"] == "running"

    project.run_until_idle()
    run = project.json("runs")[0]
    assert run["status"] == "completed"
    assert (project.calls("first"), project.calls("slow"), project.calls("last")) == (1, 2, 1)


def test_a_saved_workflow_file_is_reloaded(project):
    project.add("docs.py")
    runner = project.dev()
    wait_until(lambda: "durable dev:" in runner.stderr, what="the runner's banner")
    extra = project.root / "docs.py"
    source = extra.read_text()
    new_function = (
        "\n\n@durable.function(id='added-later', trigger='test/added')\n"
        "def added_later(event, step):\n"
        "    return step.run('hello', record, 'hello')\n"
    )
    extra.write_text(source + new_function)

    def reloaded() -> bool:
        if any("added-later" in line and "reload" in line for line in runner.out):
            return True
        extra.write_text(source + new_function)  # the watcher may have started after our save
        return False

    wait_until(reloaded, timeout=20, interval=0.3, what="a reload line")
    project.send("test/added")
    runner.wait_for_line(lambda line: "added-later" in line and " completed" in line)
    assert project.calls("hello") == 1


def test_pyproject_paths_are_the_default_and_functions_lists_them(project):
    project.add("docs.py", "flaky.py")
    rows = project.json("functions")
    assert [(r["id"], r["triggers"], r["file"]) for r in rows] == [
        ("always-fails", ["test/fail"], "flaky.py"),
        ("process-uploaded-document", ["api/document.uploaded"], "docs.py"),
    ]
    human = project.ok("functions")
    assert "always-fails" in human and "api/document.uploaded" in human


def test_runs_filters_by_function_status_and_limit(project):
    project.add("docs.py", "flaky.py")
    for _ in range(3):
        project.ok("send", "api/document.uploaded")
    project.send("test/fail", {"delay": 3600})
    project.run_until_idle()

    assert len(project.json("runs")) == 4
    assert [r["function"] for r in project.json("runs", "--status", "retrying")] == ["always-fails"]
    docs = project.json("runs", "--function", "process-uploaded-document", "--limit", "2")
    assert len(docs) == 2 and {r["status"] for r in docs} == {"completed"}
    all_runs = project.json("runs")
    assert [r["id"] for r in all_runs] == sorted((r["id"] for r in all_runs), reverse=True)
    human = project.ok("runs")
    assert "retrying" in human and "always-fails" in human
