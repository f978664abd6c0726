"""A run id prefix or suffix that matches several runs says so and lists them (exit 2)."""

from __future__ import annotations

import pytest
from cli_support import Project, state_snapshot

from durable_cli.store import RunRecord, open_store

# every command that takes a run id: each goes through the one resolver
COMMANDS = [
    ["show", "{id}"],
    ["show", "{id}", "--json"],
    ["replay", "{id}"],
    ["replay", "{id}", "--from", "classify-document"],
    ["cancel", "{id}"],
    ["continue", "{id}"],
    ["fail", "classify-document", "--run", "{id}"],
]


@pytest.fixture
def four_runs(project: Project) -> list[str]:
    """One finished run and three queued replays of it: ids newest first, a shared start."""
    project.add("docs.py")
    project.send("api/document.uploaded", {"document_id": "d-1"})
    project.run_until_idle()
    first = project.json("runs")[0]["id"]
    for _ in range(3):
        project.ok("replay", first)
    ids = [run["id"] for run in project.json("runs")]
    assert len(set(ids)) == 4
    return ids


def shared_start(ids: list[str]) -> str:
    """The characters every id starts with."""
    size = 0
    while all(len(x) > size and x[size] == ids[0][size] for x in ids):
        size += 1
    return ids[0][:size]


def refusal(done) -> str:  # type: ignore[no-untyped-def]
    """The one stderr line of a refused command (exit 2, no traceback, no output)."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_an_ambiguous_prefix_lists_the_runs_it_matches(
    project: Project, four_runs: list[str], args: list[str]
) -> None:
    shared = shared_start(four_runs)
    assert shared, four_runs  # made within the same minutes, ULIDs share their time digits
    typed = shared.lower()  # ids are matched case-insensitively
    before = state_snapshot(project.state)

    line = refusal(project.cli(*(a.format(id=typed) for a in args)))

    newest = ", ".join(four_runs[:3])
    assert line == f"error: run id prefix {typed!r} matches 4 runs: {newest} and 1 more"
    assert state_snapshot(project.state) == before


def test_a_prefix_that_one_run_has_still_finds_it(project: Project, four_runs: list[str]) -> None:
    newest, second = four_runs[0], four_runs[1]
    unique = newest[: len(shared_start([newest, second])) + 1]

    assert project.json("show", unique)["id"] == newest
    assert "no run with id 'ZZZZZZZZ'" in refusal(project.cli("show", "ZZZZZZZZ"))


def test_an_ambiguous_suffix_lists_the_runs_it_ends(project: Project) -> None:
    # ids that end alike but start apart only happen by chance; written here to be sure
    ids = [f"01J9Z3K5{start}00000000000WXYZ7" for start in ("AA", "BB")]
    ids.append("01J9Z3K5CC000000000000000A")
    store = open_store(str(project.state))
    store.create_runs([RunRecord(id=i, function="f", event={"name": "e"}) for i in ids])
    store.close()
    before = state_snapshot(project.state)

    line = refusal(project.cli("cancel", "wxyz7"))

    assert line == f"error: run id suffix 'wxyz7' matches 2 runs: {ids[1]}, {ids[0]}"
    assert state_snapshot(project.state) == before
    assert "cancelled 01J9Z3K5CC000000000000000A" in project.ok("cancel", "000a")
