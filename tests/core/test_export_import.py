"""Export a run from one journal and import it into another: the engine's side of
`durable export` / `durable import` (the commands are tested in tests/cli/)."""

from __future__ import annotations

import asyncio
import copy
import json

import pytest

import durable_cli as durable
from durable_cli.engine import (
    Engine,
    Registry,
    VirtualClock,
    actions,
    export_run,
    import_run,
    run_detail,
)
from durable_cli.errors import InputError
from durable_cli.store import open_store


@durable.function(id="child", trigger="child/go")
def child(event, step):
    return step.run("double", lambda: event.data["n"] * 2)


@durable.function(id="parent", trigger="parent/go")
def parent(event, step):
    n = step.run("pick", lambda: event.data["n"])
    doubled = step.invoke("kid", function=child, data={"n": n})
    return step.run("sum", lambda: n + doubled)


@durable.function(id="flaky", trigger="flaky/go", retries=0)
def flaky(event, step):
    step.run("ok", lambda: 1)

    def boom():
        raise RuntimeError("boom")

    return step.run("boom", boom)


def _serve(store, *functions, events=()):
    engine = Engine(store, Registry(functions), clock=VirtualClock())
    for name, data in events:
        engine.send(name, data)
    asyncio.run(engine.serve(until_idle=True, idle_wait=0))
    engine.close()


@pytest.fixture
def other(tmp_path):
    """A second, empty journal: where a run is taken to."""
    st = open_store(str(tmp_path / "elsewhere"))
    yield st
    st.close()


def _same_but_imported(doc: dict) -> dict:
    """An export with the import's own note taken off, to compare with the original."""
    doc = copy.deepcopy(doc)
    doc["run"]["meta"].pop("imported", None)
    for kid in doc.get("children", []):
        kid["run"]["meta"].pop("imported", None)
    return doc


def test_a_failed_run_round_trips(store, other):
    _serve(store, flaky, events=[("flaky/go", {"x": 1})])
    (run,) = store.list_runs()
    doc = json.loads(json.dumps(export_run(store, run.id)))  # as it travels: a JSON file
    imported = import_run(other, doc)
    assert imported.run_id == run.id and not imported.renamed_runs
    again = export_run(other, run.id)
    assert again["run"]["meta"]["imported"] == {"from": run.id}
    assert _same_but_imported(again) == doc
    assert run_detail(other, run.id)["status"] == "failed"


def test_a_run_with_its_child_round_trips_linked(store, other):
    _serve(store, parent, child, events=[("parent/go", {"n": 4})])
    top = next(r for r in store.list_runs() if r.function == "parent")
    doc = export_run(store, top.id, with_children=True)
    assert [c["run"]["function"] for c in doc["children"]] == ["child"]
    assert "children" not in export_run(store, top.id)  # only on request
    imported = import_run(other, doc)
    assert len(imported.runs) == 2
    assert _same_but_imported(export_run(other, top.id, with_children=True)) == doc
    kid = other.get_run(top.children[0])
    assert kid.parent == {"run": top.id, "step": "kid"} and kid.status == "completed"


def test_importing_twice_gives_fresh_ids_and_keeps_the_links(store, other):
    _serve(store, parent, child, events=[("parent/go", {"n": 4})])
    top = next(r for r in store.list_runs() if r.function == "parent")
    doc = export_run(store, top.id, with_children=True)
    first = import_run(other, doc)
    second = import_run(other, doc)
    assert not first.renamed_runs
    assert set(second.renamed_runs) == {top.id, top.children[0]}
    assert set(second.renamed_events) == {top.event["id"], doc["children"][0]["event"]["id"]}
    new_top = other.get_run(second.run_id)
    new_kid_id = second.renamed_runs[top.children[0]]
    assert new_top.children == [new_kid_id]
    assert new_top.event["id"] == second.renamed_events[top.event["id"]]
    assert other.get_event(new_top.event["id"])["data"] == {"n": 4}
    assert other.get_run(new_kid_id).parent == {"run": second.run_id, "step": "kid"}
    invoke = next(s for s in other.load_steps(second.run_id) if s.kind == "invoke")
    assert invoke.meta["child"] == new_kid_id
    assert other.count_runs() == 4  # nothing of the first import was touched


def _held_run(store):
    """A run retrying its last step when the code gains a step before it: held (paused)."""

    def version(names):
        def make(name):
            def fn():
                if name == names[-1]:
                    raise RuntimeError("not yet")
                return name

            return fn

        @durable.function(id="job", trigger="go", retries=10, backoff=lambda n: 60)
        def job(event, step):
            return [step.run(name, make(name)) for name in names]

        return job

    clock = VirtualClock()
    engine = Engine(store, Registry([version(["a", "b", "c"])]), clock=clock)
    engine.send("go", {"k": "v"})
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 1000))
    engine.swap_registry(Registry([version(["a", "x", "b", "c"])]))
    asyncio.run(engine.serve(until_ms=clock.now_ms() + 120_000, recover=False))
    engine.close()
    (run,) = store.list_runs()
    assert run.status == "paused" and "code_change" in run.meta
    return run


def test_a_run_held_for_a_code_change_lands_finished_with_its_journal(store, other):
    held = _held_run(store)
    doc = export_run(store, held.id)
    import_run(other, doc)
    here = other.get_run(held.id)
    assert here.finished and here.status == "cancelled"
    assert here.reason == f"imported; it was paused: {held.reason}"
    assert here.meta["code_change"] == held.meta["code_change"]
    assert here.ended_at is not None and here.wake_at is None and here.owner is None
    assert run_detail(other, held.id)["steps"] == doc["steps"]
    with pytest.raises(InputError, match="not held for a code change"):
        actions.continue_run(other, held.id)  # the hold belongs to where it ran
    # no runner here resumes it: a runner that starts and goes idle leaves it as it is
    _serve(other)
    assert other.get_run(held.id).status == "cancelled"


def test_replay_from_a_step_of_an_imported_run_runs_only_the_steps_after_it(store, other):
    _serve(store, flaky, events=[("flaky/go", {})])
    (run,) = store.list_runs()
    import_run(other, export_run(store, run.id))
    calls: list[str] = []

    @durable.function(id="flaky", trigger="flaky/go")
    def fixed(event, step):
        a = step.run("ok", lambda: calls.append("ok") or 1)
        return step.run("boom", lambda: calls.append("boom") or a + 1)

    new = actions.replay_run(other, run.id, "boom")
    _serve(other, fixed)
    assert calls == ["boom"]
    assert other.get_run(new.id).status == "completed" and other.get_run(new.id).output == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(format="temporal-history"), "not an exported run"),
        (lambda d: d.update(version=2), "version 2"),
        (lambda d: d.update(children={}), "'children' must be a list"),
        (lambda d: d["children"][0].update(version=9), "child run .*version 9"),
        (lambda d: d["run"].update(status="exploded"), "unknown status 'exploded'"),
        (lambda d: d["run"].update(id="a/b"), "not a valid run id"),
        (lambda d: d["steps"].append(dict(d["steps"][0])), "two steps share a .seq."),
        (lambda d: d["children"][0]["event"].update(data=[1]), "its event: event data"),
        (lambda d: d["children"].append(d["children"][0]), "in the file twice"),
    ],
)
def test_a_bad_document_is_refused_and_nothing_is_written(store, other, change, reason):
    _serve(store, parent, child, events=[("parent/go", {"n": 1})])
    top = next(r for r in store.list_runs() if r.function == "parent")
    doc = export_run(store, top.id, with_children=True)
    change(doc)
    with pytest.raises(InputError, match=reason):
        import_run(other, doc)
    assert other.count_runs() == 0
    assert other.get_event(top.event["id"]) is None


def test_a_run_taken_from_a_state_dir_into_a_database_round_trips_and_replays(store, pg_server):
    from durable_cli.store._postgres import open_database

    _serve(store, parent, child, events=[("parent/go", {"n": 4})])
    top = next(r for r in store.list_runs() if r.function == "parent")
    doc = export_run(store, top.id, with_children=True)
    database = open_database(pg_server.new_database())
    try:
        import_run(database, doc)
        assert _same_but_imported(export_run(database, top.id, with_children=True)) == doc
        again = import_run(database, doc)  # the ids are taken there now: fresh ones
        assert set(again.renamed_runs) == {top.id, top.children[0]}
        new = actions.replay_run(database, again.run_id, "sum", data={"n": 5})
        assert [s.id for s in database.load_steps(new.id)] == ["pick", "kid"]
        assert database.get_run(new.id).event["data"] == {"n": 5}
    finally:
        database.close()
