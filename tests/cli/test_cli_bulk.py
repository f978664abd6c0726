"""`durable cancel --function` and `durable replay --function`: every matching run, exactly
those; `--dry-run` changes nothing; options that don't go together are bad input."""

from __future__ import annotations

import hashlib
import json

import pytest
from cli_support import Project, state_bytes


def _checksums(project: Project) -> dict[str, str]:
    return {
        name: hashlib.sha256(data).hexdigest() for name, data in state_bytes(project.state).items()
    }


def _statuses(project: Project) -> dict[str, str]:
    return {run["id"]: run["status"] for run in project.json("runs", "--limit", "100")}


def _mixed(project: Project) -> dict[str, list[str]]:
    """Runs of three kinds: failed and retrying runs of always-fails, a completed pipeline."""
    project.add("flaky.py", "docs.py")
    for _ in range(2):
        project.send("test/fail", {"delay": 0.01})  # fails for good within a second
    project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle()
    for _ in range(2):
        project.send("test/fail", {"delay": 3600})  # retrying, an hour from now
    project.run_until_idle()
    by: dict[str, list[str]] = {"failed": [], "retrying": [], "completed": []}
    for run_id, status in sorted(_statuses(project).items()):
        by[status].append(run_id)
    assert [len(by[s]) for s in ("failed", "retrying", "completed")] == [2, 2, 1], by
    return by


def test_bulk_cancel_dry_run_changes_nothing_then_cancels_exactly_the_matches(project):
    runs = _mixed(project)
    before, statuses = _checksums(project), _statuses(project)

    dry = project.cli("cancel", "--function", "always-fails", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [f"would cancel {r} (retrying)" for r in runs["retrying"]]
    assert dry.stderr.strip() == "dry run: 2 runs would be cancelled; nothing changed"
    assert _checksums(project) == before

    done = project.cli("cancel", "--function", "always-fails", "--status", "retrying")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"cancelled {r}" for r in runs["retrying"]]
    assert _statuses(project) == statuses | dict.fromkeys(runs["retrying"], "cancelled")

    again = project.cli("cancel", "--function", "always-fails")  # nothing unfinished is left
    assert (again.returncode, again.stdout) == (0, "")
    assert again.stderr.strip() == "no runs of function always-fails match"


def test_bulk_replay_of_recent_failed_runs_dry_run_then_for_real(project, tmp_path):
    runs = _mixed(project)
    # an old failed run, brought in from elsewhere: --since leaves it out
    doc = json.loads(project.ok("export", runs["failed"][0]))
    doc["run"]["id"] = "01A" + doc["run"]["id"][3:]
    doc["run"]["created_at"] -= 3 * 86_400_000
    doc["event"]["id"] = "01A" + doc["event"]["id"][3:]
    (tmp_path / "old.json").write_text(json.dumps(doc))
    old = project.ok("import", str(tmp_path / "old.json"))
    before, statuses = _checksums(project), _statuses(project)

    pick = ("--function", "always-fails", "--status", "failed", "--since", "1h")
    dry = project.cli("replay", *pick, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [f"would replay {r} (failed)" for r in runs["failed"]]
    assert _checksums(project) == before

    done = project.cli("replay", *pick, "--data", '{"delay": 0.5}')
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[1] for line in lines] == runs["failed"]
    new_ids = [line.split()[3] for line in lines]
    after = _statuses(project)
    assert after == statuses | dict.fromkeys(new_ids, "queued")  # nothing else changed
    for source, new in zip(runs["failed"], new_ids, strict=True):
        detail = project.json("show", new)
        assert detail["replay_of"] == source and detail["event"]["data"] == {"delay": 0.5}
    assert old in statuses and old not in {line.split()[1] for line in lines}


def test_replay_data_replaces_the_event_data(project):
    project.add("docs.py")
    project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle()
    (run,) = project.json("runs")
    inline = project.ok("replay", run["id"], "--data", '{"document_id": "d-2"}')
    piped = project.cli("replay", run["id"], "--data", "-", input='{"document_id": "d-3"}')
    assert piped.returncode == 0, piped.stderr
    project.run_until_idle()
    for new_id, doc_id in ((inline, "d-2"), (piped.stdout.strip(), "d-3")):
        detail = project.json("show", new_id)
        assert detail["event"]["name"] == "api/document.uploaded"
        assert detail["event"]["data"] == {"document_id": doc_id}
        assert detail["event"]["id"] != run["event"]["id"]
        assert detail["status"] == "completed"
        assert detail["output"] == {"label": "finance"}
        saved = next(s for s in detail["steps"] if s["id"] == "save-results")
        assert saved["output"] == {"saved": doc_id}  # the steps saw the new data
    assert project.json("show", run["id"])["event"]["data"] == {"document_id": "d-1"}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["cancel", "RUN", "--function", "f"], "give a RUN_ID or --function FN_ID, not both"),
        (["replay", "RUN", "--function", "f"], "give a RUN_ID or --function FN_ID, not both"),
        (["cancel"], "say which run (RUN_ID) or which runs (--function FN_ID)"),
        (["replay", "--function", "f", "--since", "5"], "--since '5': give a number and a unit"),
        (["replay", "--function", "f", "--status", "broken"], "unknown status 'broken'"),
        (["cancel", "--function", "f", "--status", "failed"], "a failed run can't be cancelled"),
        (["cancel", "RUN", "--status", "queued"], "--status goes with --function FN_ID"),
        (["replay", "RUN", "--dry-run"], "--dry-run goes with --function FN_ID"),
        (["replay", "--function", "f", "--from", "s"], "--from replays one run"),
        (["replay", "--function", "f", "--data", "[1]"], "event data must be a JSON object"),
        (["replay", "RUN", "--data", "{nope"], "--data: invalid JSON"),
    ],
)
def test_options_that_do_not_go_together_are_bad_input(project, args, says):
    project.add("docs.py")
    project.send("api/document.uploaded", {"document_id": "d-1"})
    before = _checksums(project)
    done = project.cli(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert says in done.stderr
    assert _checksums(project) == before
