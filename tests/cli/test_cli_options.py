"""Function options through the real command: invoke links runs, concurrency=1 never overlaps,
idempotency keys, debounce bursts."""

from __future__ import annotations

import textwrap

from cli_support import Project

FLOWS = textwrap.dedent(
    """
    import os, time
    import durable_cli as durable
    from calls import record, CALLS

    @durable.function(id="child")
    def child(event, step):
        return step.run("double", lambda: event.data["n"] * 2)

    @durable.function(id="parent", trigger="fam/go")
    def parent(event, step):
        return step.invoke("call-child", function=child, data={"n": 21})

    def exclusive(tag):
        # a side-effect log of entries and exits: overlapping runs would interleave
        CALLS.mkdir(exist_ok=True)
        with open(CALLS / "serial.trace", "a") as fh:
            fh.write(f"in {tag}\\n")
        time.sleep(0.05)
        with open(CALLS / "serial.trace", "a") as fh:
            fh.write(f"out {tag}\\n")
        return tag

    @durable.function(id="serial", trigger="serial/go", concurrency=1)
    def serial(event, step):
        return step.run("work", exclusive, event.data["n"])

    @durable.function(id="welcome", trigger="user/signed-up", idempotency="event.data.user")
    def welcome(event, step):
        step.run("mail", record, "welcome")

    @durable.function(id="reindex", trigger="doc/edited", debounce=0.5)
    def reindex(event, step):
        return step.run("index", lambda: event.data["rev"])
    """
)


def _project(project: Project) -> Project:
    project.add()
    (project.root / "flows.py").write_text(FLOWS)
    (project.root / "pyproject.toml").write_text('[tool.durable]\npaths = ["flows.py"]\n')
    return project


def test_invoke_links_parent_and_child_in_show(project: Project):
    _project(project)
    project.send("fam/go")
    project.run_until_idle()
    (parent,) = project.json("runs", "--function", "parent")
    (child,) = project.json("runs", "--function", "child")
    shown = project.json("show", parent["id"])
    assert shown["output"] == 42
    assert shown["children"] == [child["id"]]
    assert project.json("show", child["id"])["parent"] == {
        "run": parent["id"],
        "step": "call-child",
    }


def test_concurrency_one_never_runs_two_at_once(project: Project):
    _project(project)
    for n in range(6):
        project.send("serial/go", {"n": n})
    project.run_until_idle("--concurrency", "8")
    trace = (project.root / "calls" / "serial.trace").read_text().split("\n")[:-1]
    assert len(trace) == 12
    # strictly alternating in/out: no run entered while another was inside
    assert all(line.startswith("in" if i % 2 == 0 else "out") for i, line in enumerate(trace))


def test_idempotency_makes_one_run_per_key(project: Project):
    _project(project)
    for user in ("ada", "ada", "bob", "ada"):
        project.send("user/signed-up", {"user": user})
    project.run_until_idle()
    assert len(project.json("runs", "--function", "welcome")) == 2
    assert project.calls("welcome") == 2


def test_debounce_collapses_a_burst_into_one_run(project: Project):
    _project(project)
    for rev in range(5):
        project.send("doc/edited", {"rev": rev})
    project.run_until_idle("--idle-wait", "2")
    (run,) = project.json("runs", "--function", "reindex")
    assert (run["status"], run["output"]) == ("completed", 4)
