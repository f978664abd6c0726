"""The journal on disk: JSON only, owner-only, schema-versioned. What every store does (events,
runs, steps, flags, leases) is the contract in tests/store, run on this store too."""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import stat
from pathlib import Path

import pytest

from durable_cli.errors import SchemaVersionError, StateError, StateLockedError
from durable_cli.store import Attempt, RunRecord, StepRecord, new_id, open_store


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_state_dir_is_owner_only_even_under_umask_000(tmp_path: Path):
    old = os.umask(0)
    try:
        store = open_store(str(tmp_path / "state"))
        store.put_event({"id": "e1", "name": "x", "data": {"big": "x" * 100_000}, "ts": 1})
        store.close()
    finally:
        os.umask(old)
    state = tmp_path / "state"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for path in state.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_unknown_schema_version_is_refused_and_left_untouched(tmp_path: Path):
    state = tmp_path / "state"
    store = open_store(str(state))
    store.rows.cache.set("meta/schema", {"version": 99})
    store.close()
    before = _digest(state)
    with pytest.raises(SchemaVersionError, match="schema version 99"):
        open_store(str(state))
    assert _digest(state) == before


def test_state_path_that_is_a_file_is_refused(tmp_path: Path):
    (tmp_path / "state").write_text("not a dir")
    with pytest.raises(StateError, match="not a directory"):
        open_store(str(tmp_path / "state"))


def test_world_writable_state_dir_is_refused(tmp_path: Path):
    state = tmp_path / "state"
    open_store(str(state)).close()
    state.chmod(0o777)
    with pytest.raises(StateError, match="chmod 700"):
        open_store(str(state))


def test_a_planted_pickle_is_never_loaded(tmp_path: Path):
    state = tmp_path / "state"
    store = open_store(str(state))
    store.close()

    class Boom:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    con = sqlite3.connect(state / "cache.db")
    con.execute(
        "INSERT INTO Cache(key, raw, store_time, expire_time, access_time, access_count, tag,"
        " size, mode, filename, value) VALUES ('run/EVIL', 1, 0, NULL, 0, 0, 'queued', 0, 4,"
        " NULL, ?)",
        (pickle.dumps(Boom()),),
    )
    con.commit()
    con.close()
    store = open_store(str(state))
    with pytest.raises(StateError, match="pickled"):
        store.get_run("EVIL")
    assert not (tmp_path / "pwned").exists()


def test_values_are_json_on_disk(tmp_path: Path):
    store = open_store(str(tmp_path / "state"))
    store.put_event({"id": "e1", "name": "x", "data": {"k": "v"}, "ts": 5})
    raw = store.rows.cache.sql("SELECT value FROM Cache WHERE key = 'ev/e1'").fetchone()[0]
    assert bytes(raw) == b'{"id":"e1","name":"x","data":{"k":"v"},"ts":5}'


def test_second_runner_is_refused_naming_the_holder(tmp_path: Path):
    one = open_store(str(tmp_path / "state"))
    one.lock_runner()
    two = open_store(str(tmp_path / "state"))
    with pytest.raises(StateLockedError, match=f"process {os.getpid()}"):
        two.lock_runner()
    one.close()
    two.lock_runner()  # the lock is free once its holder lets go
    two.close()


def test_runs_are_found_by_a_unique_prefix_or_suffix(tmp_path: Path):
    from durable_cli.engine import actions
    from durable_cli.errors import InputError

    store = open_store(str(tmp_path / "state"))
    runs = [RunRecord(id=new_id(5_000), function="f", event={}) for _ in range(3)]
    store.create_runs(runs)
    target = runs[1]
    assert actions.find_run(store, target.id[-8:].lower()).id == target.id
    assert actions.find_run(store, target.id[:-2] + target.id[-2:]).id == target.id
    with pytest.raises(InputError, match=f"prefix '{target.id[:10]}' matches 3 runs: "):
        actions.find_run(store, target.id[:10])  # shared by all three: ambiguous
    with pytest.raises(InputError, match="no run"):
        actions.find_run(store, "Z" + target.id[1:10])


@pytest.mark.parametrize("output", [None, 0, False, "", [], {}, {"n": 1}])
def test_records_read_back_whole_though_the_journal_leaves_defaults_out(
    tmp_path: Path, output: object
):
    store = open_store(str(tmp_path / "state"))
    run = RunRecord(id=new_id(), function="f", event={"id": "e", "name": "x"}, created_at=3)
    store.create_runs([run])
    raw = store.rows.cache.sql("SELECT value FROM Cache WHERE key = ?", (f"run/{run.id}",))
    assert "null" not in bytes(raw.fetchone()[0]).decode()  # nothing at its default is written
    run.status, run.output, run.step_mode, run.children = "completed", output, True, ["c"]
    step = StepRecord(run.id, "s", 0, status="completed", output=output, started_at=1)
    step.attempts.append(Attempt(started_at=1, ended_at=2))
    assert store.save_runs([run], [step]) == [True]
    assert store.get_run(run.id) == run
    assert store.load_steps(run.id) == [step]
    # a record in the full form, as earlier versions wrote it, reads the same
    full = {**step.to_dict(), "run_id": run.id}
    store.rows.put(f"st/{run.id}/000001", {**full, "seq": 1, "id": "t"})
    assert [s.id for s in store.load_steps(run.id)] == ["s", "t"]
    assert store.load_steps(run.id)[1].attempts == step.attempts


def test_durable_sends_fast_path_indexes_the_event_by_name(tmp_path: Path):
    from durable_cli.store._send import put_event

    path = str(tmp_path / "state")
    open_store(path).close()
    event = {"id": new_id(), "name": "a/b", "data": {"k": 1}, "ts": 5}
    assert put_event(path, event) is True  # written with sqlite3 alone, not by the store
    store = open_store(path, create=False)
    assert store.latest_event("a/b") == event
    store.close()


def test_a_journal_from_before_the_name_index_has_its_events_indexed_when_first_asked(
    tmp_path: Path,
):
    path = str(tmp_path / "state")
    store = open_store(path)
    for i, name in enumerate(["a", "b", "a", "a/b"]):
        store.put_event({"id": f"e{i}", "name": name, "data": {}, "ts": i})
    store.close()
    con = sqlite3.connect(os.path.join(path, "cache.db"))
    with con:  # as a journal written before the index was kept: no index rows, no marker
        con.execute(
            "DELETE FROM Cache WHERE key >= 'en/' AND key < 'en0' OR key = ?", ("meta/event-names",)
        )
    con.close()
    store = open_store(path, create=False)
    assert store.latest_event("a")["id"] == "e2"
    assert store.latest_event("b")["id"] == "e1"
    store.put_event({"id": "e9", "name": "b", "data": {}, "ts": 9})
    assert store.latest_event("b")["id"] == "e9"
    store.close()
