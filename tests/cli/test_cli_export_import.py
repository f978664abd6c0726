"""`durable export` / `durable import` through the real command: a run taken to another state
dir is shown the same there, replays from a step there, and bad files are refused."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_support import Project, state_snapshot

PIPELINE = [
    "validate-upload",
    "summarize-content",
    "classify-document",
    "save-results",
    "notify-success",
]


def _only_run(project: Project, *args: str) -> dict[str, Any]:
    (run,) = project.json("runs", *args)
    return run


def _export(project: Project, run_id: str, *args: str, state: Path | None = None) -> dict:
    where = ["--state-dir", str(state)] if state is not None else []
    return json.loads(project.ok("export", run_id, *args, *where))


def _without_import_note(doc: dict[str, Any]) -> dict[str, Any]:
    """A document with the note an import adds (where the run came from) taken off."""
    doc = copy.deepcopy(doc)
    doc["run"]["meta"].pop("imported", None)
    doc["children"] = [_without_import_note(kid) for kid in doc.get("children", [])]
    return doc


def _show(project: Project, run_id: str, state: Path) -> dict[str, Any]:
    detail = project.json("show", run_id, "--state-dir", str(state))
    detail["meta"].pop("imported", None)
    return detail


def test_a_run_taken_elsewhere_shows_the_same_and_replays_from_a_step_there(project, tmp_path):
    project.add("docs.py")
    project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle()
    run_id = _only_run(project)["id"]
    file = tmp_path / "run.json"
    assert project.ok("export", run_id, "--output", str(file)) == (
        f"exported run {run_id} to {file}"
    )
    doc = json.loads(file.read_text())
    assert (doc["format"], doc["version"]) == ("durable-run", 1)
    assert [s["id"] for s in doc["steps"]] == PIPELINE
    assert doc == _export(project, run_id)  # the file holds what stdout prints

    elsewhere = tmp_path / "elsewhere"
    done = project.cli("import", str(file), "--state-dir", str(elsewhere))
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, run_id, "")
    assert _show(project, run_id, elsewhere) == _show(project, run_id, project.state)

    calls_before = {name: project.calls(name) for name in PIPELINE}
    new_id = project.ok("replay", run_id, "--from", "save-results", "--state-dir", str(elsewhere))
    project.run_until_idle("docs.py", "--state-dir", str(elsewhere))
    replayed = project.json("show", new_id, "--state-dir", str(elsewhere))
    assert replayed["status"] == "completed" and replayed["replay_of"] == run_id
    ran = {name: project.calls(name) - calls_before[name] for name in PIPELINE}
    assert ran == dict.fromkeys(PIPELINE[:3], 0) | dict.fromkeys(PIPELINE[3:], 1)
    copied = [s["copied_from"] for s in replayed["steps"]]
    assert copied == [run_id] * 3 + [None] * 2
    # the state the run was exported from has only its own run
    assert [r["id"] for r in project.json("runs")] == [run_id]


def test_an_id_already_here_gets_a_fresh_one_said_on_stderr(project, tmp_path):
    project.add("docs.py")
    event_id = project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle()
    run_id = _only_run(project)["id"]
    file = tmp_path / "run.json"
    project.ok("export", run_id, "-o", str(file))
    done = project.cli("import", str(file))  # into the very state it came from
    assert done.returncode == 0, done.stderr
    new_id = done.stdout.strip()
    assert new_id != run_id
    lines = done.stderr.splitlines()
    assert lines[0] == f"run {run_id} is here already: imported as {new_id}"
    assert lines[1].startswith(f"event {event_id} is here already: imported as ")
    again = project.json("show", new_id)
    assert again["event"]["id"] == lines[1].rsplit(" ", 1)[1]
    assert again["event"]["data"] == {"document_id": "d-1"}
    assert again["meta"]["imported"] == {"from": run_id}
    assert again["steps"] == project.json("show", run_id)["steps"]


HELD = textwrap.dedent(
    """
    import durable_cli as durable

    def broken():
        raise RuntimeError("not yet")

    @durable.function(id="held", trigger="held/go", retries=100, backoff=lambda n: 1)
    def held(event, step):
        step.run("a", lambda: 1)
        {inserted}
        step.run("b", lambda: 2)
        return step.run("c", broken)
    """
)


def _held_run(project: Project) -> str:
    """A run whose code gained a step before its journaled ones while it retried: held."""
    path = project.root / "held.py"
    path.write_text(HELD.format(inserted="pass"))
    project.send("held/go", {"k": "v"})
    project.run_until_idle(str(path))  # c failed; its retry is a second away
    path.write_text(HELD.format(inserted='step.run("x", lambda: 0)'))
    project.run_until_idle(str(path), "--idle-wait", "10")  # the retry meets the new code
    run = _only_run(project)
    assert run["status"] == "paused" and "code_change" in run["meta"], run
    return run["id"]


def _failed_run(project: Project) -> str:
    project.send("test/fail", {"delay": 0.01})
    project.run_until_idle("flaky.py")
    run = _only_run(project, "--function", "always-fails")
    assert run["status"] == "failed"
    return run["id"]


def _family(project: Project) -> str:
    project.send("family/go", {"n": 4})
    project.run_until_idle("family.py")
    run = _only_run(project, "--function", "parent-sum")
    assert run["output"] == {"sum": 12} and len(run["children"]) == 1
    return run["id"]


@pytest.mark.parametrize("make", [_held_run, _failed_run, _family])
def test_each_kind_of_run_round_trips(project, tmp_path, make):
    project.add("flaky.py", "family.py")
    run_id = make(project)
    doc = _export(project, run_id, "--with-children")
    elsewhere = tmp_path / "elsewhere"
    file = tmp_path / "run.json"
    file.write_text(json.dumps(doc))
    assert project.ok("import", str(file), "--state-dir", str(elsewhere)) == run_id

    back = _export(project, run_id, "--with-children", state=elsewhere)
    assert back["run"]["meta"]["imported"] == {"from": run_id}
    if make is _held_run:  # an imported run is finished: the hold is said in its reason
        assert back["run"]["status"] == "cancelled"
        assert back["run"]["reason"] == f"imported; it was paused: {doc['run']['reason']}"
        for key in ("status", "reason", "ended_at", "duration_ms"):
            back["run"][key] = doc["run"][key]
    assert _without_import_note(back) == doc
    for kid in doc.get("children", []):
        kid_id = kid["run"]["id"]
        assert _show(project, kid_id, elsewhere) == _show(project, kid_id, project.state)
    if make is _family:
        assert [k["run"]["parent"] for k in doc["children"]] == [{"run": run_id, "step": "kid"}]
        plain = _export(project, run_id)
        assert "children" not in plain  # only on request


def _bad_file(tmp_path: Path, change: Any) -> Path:
    doc = {
        "format": "durable-run",
        "version": 1,
        "run": {"id": "01J0000000000000000000000A", "function": "f", "created_at": 1},
        "event": {"id": "01J0000000000000000000000B", "name": "go", "data": {}, "ts": 1},
        "steps": [],
    }
    change(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc) if isinstance(doc, dict) else doc)
    return path


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.update(format="temporal-history"), "not an exported run"),
        (lambda d: d.update(version=2), "version 2: this durable reads version 1"),
        (lambda d: d.pop("version"), "version None"),
        (lambda d: d["run"].update(status="exploded"), "unknown status 'exploded'"),
        (lambda d: d.update(children=[{"format": "durable-run", "version": 7}]), "version 7"),
    ],
)
def test_an_unknown_format_or_version_is_bad_input_and_writes_nothing(
    project, tmp_path, change, says
):
    path = _bad_file(tmp_path, change)
    done = project.cli("import", str(path))
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"error: {path}: ") and says in done.stderr
    assert state_snapshot(project.state) is None  # not even a state dir


def test_a_file_that_is_not_json_or_not_there_is_bad_input(project, tmp_path):
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    for path, says in ((junk, "not JSON"), (tmp_path / "missing.json", "can't read")):
        done = project.cli("import", str(path))
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
        assert says in done.stderr
    assert state_snapshot(project.state) is None


def test_import_reads_stdin_and_export_of_an_unknown_run_writes_no_file(project, tmp_path):
    project.add("docs.py")
    project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle()
    run_id = _only_run(project)["id"]
    text = project.ok("export", run_id)
    elsewhere = tmp_path / "elsewhere"
    done = project.cli("import", "-", "--state-dir", str(elsewhere), input=text)
    assert (done.returncode, done.stdout.strip()) == (0, run_id)

    out = tmp_path / "nothing.json"
    done = project.cli("export", "NO-SUCH-RUN", "--output", str(out))
    assert done.returncode == 2 and "no run with id 'NO-SUCH-RUN'" in done.stderr
    assert not out.exists() and list(tmp_path.glob(".durable-export-*")) == []
