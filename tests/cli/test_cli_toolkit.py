"""Step tools through the real command: a sleep survives a runner restart, a wait is matched by a
`durable send` from another process, a timeout returns None, a sent event is sent once."""

from __future__ import annotations

import textwrap

from cli_support import Project
from helpers import wait_until

FLOWS = textwrap.dedent(
    """
    import durable_cli as durable
    from calls import record

    @durable.function(id="napper", trigger="nap/go")
    def napper(event, step):
        step.run("before", record, "before")
        step.sleep("nap", 1.5)
        return step.run("after", record, "after")

    @durable.function(id="approver", trigger="order/placed")
    def approver(event, step):
        step.send_event("ask", "order/approval.requested", {"order": event.data["order"]})
        got = step.wait_for_event("decision", event="order/decided", timeout=event.data["wait"],
                                  match="data.order")
        return None if got is None else got.data["ok"]

    @durable.function(id="asked", trigger="order/approval.requested")
    def asked(event, step):
        step.run("note", record, "asked")
    """
)


def _project(project: Project) -> Project:
    project.add()
    (project.root / "flows.py").write_text(FLOWS)
    (project.root / "pyproject.toml").write_text('[tool.durable]\npaths = ["flows.py"]\n')
    return project


def _status(project: Project, function: str) -> str:
    runs = project.json("runs", "--function", function)
    return runs[0]["status"] if runs else "none"


def test_a_sleeping_run_survives_a_runner_restart_and_fires_once(project: Project):
    _project(project)
    project.send("nap/go")
    first = project.dev("--no-watch")
    wait_until(lambda: _status(project, "napper") == "sleeping", 20, what="the run asleep")
    assert first.stop() in (0, 130)
    assert _status(project, "napper") == "sleeping"
    project.run_until_idle("--idle-wait", "5")
    assert _status(project, "napper") == "completed"
    assert project.calls("before") == 1
    assert project.calls("after") == 1


def test_a_wait_is_matched_by_a_send_from_another_process(project: Project):
    _project(project)
    runner = project.dev("--no-watch")
    project.send("order/placed", {"order": "A", "wait": 600})
    project.send("order/placed", {"order": "B", "wait": 600})
    wait_until(
        lambda: (
            [r["status"] for r in project.json("runs", "--function", "approver")]
            == ["waiting", "waiting"]
        ),
        20,
        what="both runs waiting",
    )
    project.send("order/decided", {"order": "B", "ok": True})
    wait_until(lambda: "completed" in {r["status"] for r in project.json("runs")}, 20)
    by_order = {
        r["event"]["data"]["order"]: (r["status"], r["output"])
        for r in project.json("runs", "--function", "approver")
    }
    assert by_order == {"A": ("waiting", None), "B": ("completed", True)}
    wait_until(lambda: project.calls("asked") == 2, 20, what="both approval requests handled")
    assert runner.stop() in (0, 130)
    assert project.calls("asked") == 2  # sent once per run, though each run resumed


def test_a_wait_times_out_with_none(project: Project):
    _project(project)
    project.send("order/placed", {"order": "C", "wait": 0.5})
    project.run_until_idle("--idle-wait", "2")
    (run,) = project.json("runs", "--function", "approver")
    assert (run["status"], run["output"]) == ("completed", None)
