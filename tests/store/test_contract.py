"""The `Store` contract, on both stores: events, queue claims, runs, guarded saves, steps,
injected failures, flags, run ids and transactions. Ownership is in test_contract_leases.py."""

from __future__ import annotations

import threading

import pytest

from durable_cli.store import Attempt, RunRecord, StepRecord, Store, new_id


def _event(event_id: str, ts: int, **data: object) -> dict:
    return {"id": event_id, "name": "order", "data": data, "ts": ts}


def _run(i: int = 0, function: str = "f", **fields: object) -> RunRecord:
    fields.setdefault("event", {"i": i})
    return RunRecord(id=new_id(1_000 + i), function=function, created_at=1, **fields)


# -- events and the queue ----------------------------------------------------------------------
def test_an_event_id_is_recorded_once_and_queued_once(store: Store):
    event = _event("order-1", 5, k="v")
    assert store.put_event(event) is True
    assert store.put_event({**event, "data": {"other": 1}}) is False
    assert store.get_event("order-1") == event
    assert store.get_event("nope") is None
    assert store.queued_count() == 1 and store.has_queued()
    assert store.put_event(_event("cron-1", 6), queue=False) is True
    assert store.queued_count() == 1


def test_values_read_back_exactly_as_written(store: Store):
    data = {"b": 1, "a": 1e20, "z": [0.1, -0.0, "é\u0000"], "n": None}
    store.put_event(_event("e", 1, **data))
    back = store.get_event("e")["data"]
    assert back == data
    assert list(back) == ["b", "a", "z", "n"]  # key order kept
    assert isinstance(back["a"], float)  # a float stays a float, however large


def test_the_latest_event_of_a_name_is_the_newest_by_time_then_id(store: Store):
    assert store.latest_event("order") is None
    named = {"order": [("o1", 20), ("o0", 10)], "order/paid": [("p1", 30)], "orde": [("x", 40)]}
    for name, events in named.items():
        for event_id, ts in events:
            store.put_event({"id": event_id, "name": name, "data": {"at": ts}, "ts": ts})
    # "order/paid" and "orde" share its start, and are newer: they are other names
    assert store.latest_event("order") == {
        "id": "o1",
        "name": "order",
        "data": {"at": 20},
        "ts": 20,
    }
    assert store.latest_event("order/paid")["id"] == "p1"
    assert store.latest_event("ord") is None
    store.put_event({"id": "o3", "name": "order", "data": {}, "ts": 20})  # one time: by id
    assert store.latest_event("order")["id"] == "o3"
    store.put_event({"id": "o2", "name": "order", "data": {}, "ts": 50}, queue=False)
    assert store.latest_event("order")["id"] == "o2"  # recorded, not queued: it counts too
    assert store.put_event({"id": "o2", "name": "order", "data": {}, "ts": 99}) is False
    assert store.latest_event("order")["ts"] == 50  # an id sent twice is recorded once


def test_claims_take_events_in_time_order_create_their_runs_and_dequeue_them(store: Store):
    for i, ts in enumerate([30, 10, 20]):
        store.put_event(_event(f"e{i}", ts))
    planned: list[str] = []

    def plan(event: dict) -> list[RunRecord]:
        planned.append(event["id"])
        # a plan may read runs: those of this batch's earlier events are there already
        earlier = [store.get_run(r.id) for r in created_so_far]
        assert all(run is not None for run in earlier)
        run = RunRecord(id=new_id(), function="f", event=event, created_at=event["ts"])
        created_so_far.append(run)
        return [run]

    created_so_far: list[RunRecord] = []
    created = store.claim_events(plan, limit=2)
    assert planned == ["e1", "e2"]
    assert [r.event["id"] for r in created] == ["e1", "e2"]
    assert store.queued_count() == 1
    assert store.get_run(created[0].id) == created[0]
    rest = store.claim_events(lambda e: [_run(event=e)], limit=10, reads_runs=False)
    assert [r.event["id"] for r in rest] == ["e0"]
    assert store.get_run(rest[0].id) == rest[0]
    assert not store.has_queued()
    assert store.claim_events(lambda e: [_run()]) == []


def test_an_event_is_claimed_by_one_of_two_processes(backend):
    one, two = backend(), backend()
    for i in range(60):
        one.put_event(_event(f"e{i:02d}", i))
    seen: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def plan(event: dict) -> list[RunRecord]:
        with lock:
            seen.append(event["id"])
        return [_run(event=event)]

    def drain(store: Store) -> None:
        barrier.wait()
        while store.claim_events(plan, limit=4):
            pass

    threads = [threading.Thread(target=drain, args=(s,)) for s in (one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(seen) == [f"e{i:02d}" for i in range(60)]
    assert one.count_runs() == 60 and not one.has_queued()


# -- runs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("output", [None, 0, False, "", [], {}, {"n": 1}])
def test_records_read_back_whole(store: Store, output: object):
    run = _run()
    store.create_runs([run])
    run.status, run.output, run.step_mode, run.children = "completed", output, True, ["c"]
    step = StepRecord(run.id, "s", 0, status="completed", output=output, started_at=1)
    step.attempts.append(Attempt(started_at=1, ended_at=2))
    assert store.save_runs([run], [step]) == [True]
    assert step.stored
    assert store.get_run(run.id) == run
    assert store.load_steps(run.id) == [step]


def test_runs_are_listed_newest_first_filtered_paged_and_counted(store: Store):
    runs = [
        _run(i, function="a" if i % 2 else "b", status="completed" if i % 3 else "failed")
        for i in range(30)
    ]
    store.create_runs(runs)
    ids = [r.id for r in reversed(runs)]
    assert [r.id for r in store.list_runs(limit=5)] == ids[:5]
    assert [r.id for r in store.list_runs()] == ids
    assert [r.id for r in store.list_runs(function="a")] == [
        r.id for r in reversed(runs) if r.function == "a"
    ]
    failed_b = [r.id for r in reversed(runs) if r.function == "b" and r.status == "failed"]
    assert [r.id for r in store.list_runs(function="b", status="failed", limit=3)] == failed_b[:3]
    assert [r.id for r in store.list_runs(status={"failed"})] == [
        r.id for r in reversed(runs) if r.status == "failed"
    ]
    assert [r.id for r in store.list_runs(limit=5, before=ids[4])] == ids[5:10]
    assert list(store.list_runs(status="no-such-status")) == []
    assert store.count_runs() == 30 and store.count_runs("a") == 15 and store.count_runs("x") == 0


def test_get_runs_reads_many_at_once_missing_ones_left_out(store: Store):
    runs = [_run(i) for i in range(1200)]  # more ids than one SQLite statement may carry
    runs[7].event = {"pad": "x" * 100_000}  # (a value file of its own on the embedded store)
    store.create_runs(runs)
    found = store.get_runs([r.id for r in runs] + ["NOSUCHRUN"])
    assert len(found) == 1200 and "NOSUCHRUN" not in found
    assert found[runs[7].id] == runs[7]
    assert store.get_runs([]) == {}


def test_a_guarded_save_never_overwrites_a_finished_run(store: Store):
    run, other = _run(1), _run(2)
    store.create_runs([run, other])
    run.status = "cancelled"
    assert store.save_run(run, guard=False) is True
    late = RunRecord.from_dict(run.to_store())
    late.status = "completed"
    other.status = "running"
    assert store.save_runs([late, other]) == [False, True]
    assert store.save_run(late) is False
    assert store.get_run(run.id).status == "cancelled"
    assert store.get_run(other.id).status == "running"
    # the same finished record written again (a retried commit) counts as written
    assert store.save_run(RunRecord.from_dict(run.to_store())) is True
    assert store.save_run(late, guard=False) is True
    assert store.get_run(run.id).status == "completed"


def test_a_step_saved_with_its_run_never_overwrites_a_finished_run(store: Store):
    run = _run()
    store.create_runs([run])
    store.add_failure("run:x/s", 2, "boom")
    late = RunRecord.from_dict(run.to_store())
    run.status = "cancelled"  # cancelled while its step's attempt ran
    assert store.save_run(run, guard=False) is True
    late.status, late.wake_at = "retrying", 99  # that attempt failed: a retry, with its run
    store.save_step(StepRecord(run.id, "s", 0, status="retrying"), run=late)
    assert store.get_run(run.id).status == "cancelled"
    late.status = "sleeping"  # and with an injected failure used up
    store.save_step(StepRecord(run.id, "t", 1, status="running"), run=late, consume="run:x/s")
    assert store.get_run(run.id).status == "cancelled"
    assert [(s.id, s.status) for s in store.load_steps(run.id)] == [
        ("s", "retrying"),
        ("t", "running"),
    ]
    assert store.failures()["run:x/s"]["times"] == 1, "the failure's use is still recorded"


def test_a_run_written_twice_in_one_save_keeps_the_last(store: Store):
    run = _run()
    store.create_runs([run])
    first = RunRecord.from_dict({**run.to_store(), "status": "running"})
    second = RunRecord.from_dict({**run.to_store(), "status": "sleeping", "wake_at": 9})
    assert store.save_runs([first, second]) == [True, True]
    assert store.get_run(run.id).status == "sleeping"


# -- steps ---------------------------------------------------------------------------------------
def test_steps_load_in_order_and_save_with_their_run_and_a_failure_use(store: Store):
    run = _run()
    store.create_runs([run], [StepRecord(run.id, "pre", 0, status="completed")])
    store.add_failure("run:x/s", 2, "boom")
    for seq in (2, 1):
        store.save_step(StepRecord(run.id, f"s{seq}", seq))
    run.status = "retrying"
    step = StepRecord(run.id, "s1", 1, status="retrying")
    store.save_step(step, run=run, consume="run:x/s")
    assert [(s.id, s.status) for s in store.load_steps(run.id)] == [
        ("pre", "completed"),
        ("s1", "retrying"),
        ("s2", "running"),
    ]
    assert store.get_run(run.id).status == "retrying"
    assert store.failures()["run:x/s"]["times"] == 1
    assert store.load_steps("NOSUCHRUN") == []


def test_injected_failures_count_down_and_go(store: Store):
    store.add_failure("fn:f/a", 2, "first")
    store.add_failure("fn:f/b", -1, "")
    run = _run()
    store.create_runs([run])
    for _ in range(3):
        store.save_step(StepRecord(run.id, "a", 0), consume="fn:f/a")
        store.save_step(StepRecord(run.id, "b", 1), consume="fn:f/b")
    assert store.failures() == {"fn:f/b": {"times": -1, "message": ""}}
    store.add_failure("fn:f/b", 0, "")
    assert store.failures() == {}


def test_flags_are_set_read_by_key_or_prefix_and_cleared(store: Store):
    store.set_flag("wait/order/R1", {"run": "R1"})
    store.set_flag("wait/order/R2", [1, 2])
    store.set_flag("waits", 3)
    store.set_flag("step/f", True)
    assert store.get_flag("wait/order/R1") == {"run": "R1"}
    assert store.flags("wait/") == {"wait/order/R1": {"run": "R1"}, "wait/order/R2": [1, 2]}
    assert store.has_flags("wait/order/") and not store.has_flags("wait/other/")
    store.set_flag("wait/order/R1", None)
    assert store.get_flag("wait/order/R1") is None
    assert set(store.flags("")) == {"wait/order/R2", "waits", "step/f"}


# -- run ids and transactions ------------------------------------------------------------------
def test_runs_are_found_by_a_unique_prefix_or_suffix(store: Store):
    runs = [RunRecord(id=new_id(5_000), function="f", event={}) for _ in range(3)]
    store.create_runs(runs)
    target = runs[1]
    assert store.resolve_run_id(target.id[-8:].lower()) == target.id
    assert store.resolve_run_id(target.id) == target.id
    assert store.resolve_run_id(target.id[:10]) is None  # all three share it
    ids, total = store.match_run_ids(target.id[:10], 2)
    assert total == 3 and ids == sorted((r.id for r in runs), reverse=True)[:2]
    assert store.match_run_ids("Z" + target.id[1:10], 5) == ([], 0)
    assert store.match_run_ids("", 5) == ([], 0)


def test_a_batch_commits_together_or_not_at_all(store: Store):
    run = _run()
    with pytest.raises(RuntimeError), store.batch():
        store.create_runs([run])
        store.set_flag("k", 1)
        with store.batch():  # nested: part of the outer one
            store.put_event(_event("e", 1))
        raise RuntimeError("boom")
    assert store.get_run(run.id) is None and store.get_flag("k") is None
    assert store.get_event("e") is None
    with store.batch():
        store.create_runs([run])
        assert store.get_run(run.id) == run  # read back inside it
        store.set_flag("k", 1)
    assert store.get_run(run.id) == run and store.get_flag("k") == 1


def test_what_a_batch_reads_and_writes_back_no_other_process_changes_between(backend):
    stores = [backend() for _ in range(3)]
    run = _run(status="paused")
    stores[0].create_runs([run])
    barrier = threading.Barrier(3)

    def bump(store: Store) -> None:
        barrier.wait()
        for _ in range(15):
            with store.batch():  # read, then write back what was read plus one
                count = store.get_flag("cron/tick") or 0
                store.set_flag("cron/tick", count + 1)
            with store.batch():
                again = store.get_run(run.id)
                again.grants += 1
                store.save_run(again, guard=False)

    threads = [threading.Thread(target=bump, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert stores[0].get_flag("cron/tick") == 45
    assert stores[0].get_run(run.id).grants == 45
