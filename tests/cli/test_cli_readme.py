"""The README's first flow, as a new user runs it: dev on the example, send, show."""

from __future__ import annotations

import shutil
import signal

from cli_support import REPO


def test_dev_send_show_the_example(project):
    shutil.copytree(REPO / "examples", project.root / "examples")
    # the README's first command; with stdout not a terminal it logs instead of showing the TUI
    runner = project.start("dev", "examples/document_pipeline.py")
    event_id = project.ok(
        "send", "api/document.uploaded", "--data", "examples/events/document-uploaded.json"
    )
    assert len(event_id) == 26 and "\n" not in event_id

    done = runner.wait_for_line(lambda line: " completed" in line and "  -  " in line)
    run_id = done.split()[1]
    detail = project.json("show", run_id)
    assert detail["status"] == "completed"
    assert detail["event"]["id"] == event_id
    assert detail["event"]["data"]["filename"] == "quarterly-report.pdf"
    assert [s["id"] for s in detail["steps"]] == [
        "validate-upload",
        "summarize-content",
        "classify-document",
        "save-results",
        "notify-success",
    ]
    assert all(s["status"] == "completed" for s in detail["steps"])
    assert detail["output"] == {"label": "finance"}
    log = "\n".join(runner.out)
    assert "classify-document" in log and "retrying" in log  # the example's one LLM timeout
    assert "\x1b[" not in log  # no colours when stdout is not a terminal

    assert runner.stop(signal.SIGINT) == 130
    assert "Traceback" not in runner.stderr


def test_show_accepts_a_unique_prefix_and_prints_a_table(project):
    project.add("docs.py")
    project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle()
    run_id = project.json("runs")[0]["id"]

    assert project.json("show", run_id[:-1].lower())["id"] == run_id
    human = project.ok("show", run_id)
    assert run_id in human and "process-uploaded-document" in human
    for step in ("validate-upload", "classify-document", "notify-success"):
        assert step in human
    assert "completed" in human
