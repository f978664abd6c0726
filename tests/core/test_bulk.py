"""Acting on many runs at once (`engine.bulk`): select by function, status and age; cancel or
replay each; what finished meanwhile is skipped and said."""

from __future__ import annotations

import pytest

from durable_cli.engine import bulk
from durable_cli.errors import InputError
from durable_cli.store import RunRecord, new_id

HOUR_MS = 3_600_000
NOW = 1_800_000_000_000


def _runs(store, *specs):
    """Runs written straight into the journal: (function, status, age in hours)."""
    made = []
    for function, status, age_h in specs:
        created = NOW - age_h * HOUR_MS
        event = {"id": new_id(created), "name": f"{function}/go", "data": {}, "ts": created}
        run = RunRecord(
            id=new_id(created), function=function, event=event, status=status, created_at=created
        )
        store.put_event(event, queue=False)
        store.create_runs([run])
        made.append(run.id)
    return made


def test_parse_since_takes_a_number_and_a_unit():
    assert bulk.parse_since("90s") == 90_000
    assert bulk.parse_since("1h") == HOUR_MS
    assert bulk.parse_since("2d") == 48 * HOUR_MS
    for bad in ("1", "h", "1.5h", "1y", "-1h", ""):
        with pytest.raises(InputError, match="give a number and a unit"):
            bulk.parse_since(bad)


def test_selection_by_function_status_and_age_oldest_first(store):
    old_failed, new_failed, done, other_fn, newer_failed = _runs(
        store,
        ("job", "failed", 5),
        ("job", "failed", 1),
        ("job", "completed", 1),
        ("other", "failed", 1),
        ("job", "failed", 0),
    )
    pick = bulk.Selection("job", ("failed",))
    assert [r.id for r in bulk.select_runs(store, pick, now_ms=NOW)] == [
        old_failed,
        new_failed,
        newer_failed,
    ]
    recent = bulk.Selection("job", ("failed",), since_ms=2 * HOUR_MS)
    assert [r.id for r in bulk.select_runs(store, recent, now_ms=NOW)] == [
        new_failed,
        newer_failed,
    ]
    both = bulk.Selection("job", ("failed", "completed"), since_ms=2 * HOUR_MS)
    assert {r.id for r in bulk.select_runs(store, both, now_ms=NOW)} == {
        new_failed,
        done,
        newer_failed,
    }
    assert other_fn not in {r.id for r in bulk.select_runs(store, bulk.Selection("job"))}


def test_a_cancel_selects_unfinished_runs_only_and_refuses_finished_statuses(store):
    queued, sleeping, _failed = _runs(
        store, ("job", "queued", 1), ("job", "sleeping", 1), ("job", "failed", 1)
    )
    picked = bulk.select_runs(store, bulk.Selection("job"), unfinished=True)
    assert {r.id for r in picked} == {queued, sleeping}
    with pytest.raises(InputError, match="a completed run can't be cancelled"):
        bulk.select_runs(store, bulk.Selection("job", ("completed",)), unfinished=True)
    with pytest.raises(InputError, match="unknown status 'broken'"):
        bulk.Selection("job", ("broken",)).check()


def test_cancel_runs_cancels_each_and_skips_one_that_finished_meanwhile(store):
    queued, sleeping, failed = _runs(
        store, ("job", "queued", 1), ("job", "sleeping", 1), ("job", "failed", 1)
    )
    done = bulk.cancel_runs(store, [queued, failed, sleeping])
    assert [run_id for run_id, _ in done.done] == [queued, sleeping]
    assert all(run.status == "cancelled" for _, run in done.done)
    assert done.skipped == [(failed, f"run {failed} has already failed")]
    assert store.get_run(queued).status == store.get_run(sleeping).status == "cancelled"
    assert store.get_run(failed).status == "failed"


def test_replay_runs_queues_one_new_run_each_with_the_new_data(store):
    first, second = _runs(store, ("job", "failed", 2), ("job", "failed", 1))
    done = bulk.replay_runs(store, [first, second], data={"fixed": True})
    assert [run_id for run_id, _ in done.done] == [first, second]
    for source, new in done.done:
        again = store.get_run(new.id)
        assert again.replay_of == source and again.status == "queued"
        assert again.event["data"] == {"fixed": True}
    assert store.count_runs("job") == 4


def test_replay_runs_refuses_bad_data_before_replaying_any(store):
    (only,) = _runs(store, ("job", "failed", 1))
    with pytest.raises(InputError, match="event data must be a JSON object"):
        bulk.replay_runs(store, [only], data=[1, 2])
    assert store.count_runs("job") == 1


def test_select_and_cancel_on_a_database(pg_server):
    from durable_cli.store._postgres import open_database

    database = open_database(pg_server.new_database())
    try:
        queued, failed, other = _runs(
            database, ("job", "queued", 1), ("job", "failed", 1), ("other", "queued", 1)
        )
        picked = bulk.select_runs(database, bulk.Selection("job"), unfinished=True)
        assert [r.id for r in picked] == [queued]
        done = bulk.cancel_runs(database, [r.id for r in picked])
        assert [run_id for run_id, _ in done.done] == [queued]
        statuses = {i: database.get_run(i).status for i in (queued, failed, other)}
        assert statuses == {queued: "cancelled", failed: "failed", other: "queued"}
    finally:
        database.close()
