"""The `Leases` contract and wake-ups, on both stores: several store objects on one state play
several runner processes (real time: leases are short, and waited out by polling)."""

from __future__ import annotations

import select
import threading
import time

import pytest
from helpers import wait_until

from durable_cli.errors import LeaseLost
from durable_cli.store import RunRecord, StepRecord, Store, new_id

LEASE_MS = 300


def _lapsed(observer: Store, runner_id: str) -> bool:
    return not observer.leases.runners().get(runner_id, {"live": False})["live"]


def _runner(store: Store, name: str, lease_ms: int = 60_000) -> Store:
    store.leases.register(f"{name}-{new_id()}", lease_ms)
    return store


def test_a_lease_is_registered_renewed_and_released(backend):
    one, two = _runner(backend(), "one"), _runner(backend(), "two")
    me = one.leases.runner_id
    assert one.leases.runners()[me]["live"] and two.leases.runners()[me]["live"]
    assert one.leases.renew(60_000) is True
    one.leases.release()
    assert me not in two.leases.runners()
    assert one.leases.runner_id is None and one.leases.renew(1000) is False


def test_a_revoked_runner_writes_nothing(backend):
    paused, other = _runner(backend(), "paused", LEASE_MS), _runner(backend(), "other")
    run = RunRecord(id=new_id(), function="f", event={}, status="running", created_at=1)
    run.owner = paused.leases.runner_id
    paused.create_runs([run])
    wait_until(lambda: _lapsed(other, paused.leases.runner_id), what="the lease to lapse")
    taken = other.leases.take_over(("queued", "running"))
    assert [r.id for r in taken] == [run.id]
    assert taken[0].owner == other.leases.runner_id
    late = RunRecord.from_dict({**run.to_store(), "status": "completed"})
    writes = [
        lambda: paused.save_step(StepRecord(run.id, "s", 0, status="completed")),
        lambda: paused.save_runs([late]),
        lambda: paused.save_run(late, guard=False),
        lambda: paused.put_event({"id": "e", "name": "x", "data": {}, "ts": 1}),
        lambda: paused.create_runs([RunRecord(id=new_id(), function="f", event={})]),
        lambda: paused.leases.take_slot("k", run.id, 1),
    ]
    for write in writes:
        with pytest.raises(LeaseLost):
            write()
    with pytest.raises(LeaseLost), paused.batch():
        paused.set_flag("k", 2)
    assert paused.leases.renew(60_000) is False
    assert other.load_steps(run.id) == [] and other.get_flag("k") is None
    assert other.get_run(run.id).status == "running" and other.get_event("e") is None
    assert other.count_runs() == 1


def test_a_revoked_runner_sets_no_flag(backend):
    paused, other = _runner(backend(), "paused", LEASE_MS), _runner(backend(), "other")
    wait_until(lambda: _lapsed(other, paused.leases.runner_id), what="the lease to lapse")
    other.leases.take_over(("queued", "running"))
    with pytest.raises(LeaseLost):
        paused.set_flag("k", 1)
    with pytest.raises(LeaseLost):
        paused.set_flag("k", None)
    assert other.get_flag("k") is None


def test_take_over_takes_a_dead_runners_runs_and_only_those(backend):
    dead, live, me = (_runner(backend(), n, LEASE_MS) for n in ("dead", "live", "me"))
    runs = {}
    for name, holder in (("dead", dead), ("live", live), ("none", None)):
        run = RunRecord(id=new_id(), function="f", event={}, status="queued", created_at=1)
        run.owner = holder.leases.runner_id if holder else None
        runs[name] = run
    done = RunRecord(id=new_id(), function="f", event={}, status="completed", created_at=1)
    me.create_runs([*runs.values(), done])
    assert dead.leases.take_slot("key", runs["dead"].id, 1)
    for keeper in (live, me):  # these two keep renewing; `dead` stops
        keeper.leases.renew(60_000)
    wait_until(lambda: _lapsed(me, dead.leases.runner_id), what="the lease to lapse")
    taken = me.leases.take_over(("queued", "running"))
    assert sorted(r.id for r in taken) == sorted([runs["dead"].id, runs["none"].id])
    assert {me.get_run(r.id).owner for r in taken} == {me.leases.runner_id}
    assert me.get_run(runs["live"].id).owner == live.leases.runner_id
    assert dead.leases.runner_id not in me.leases.runners()
    assert me.leases.take_slot("key", runs["none"].id, 1), "the dead runner's slot was freed"
    assert me.leases.take_over(("queued", "running")) == []


def test_a_run_is_claimed_by_one_runner(backend):
    stores = [_runner(backend(), f"r{i}") for i in range(3)]
    runs = [RunRecord(id=new_id(), function="f", event={}, created_at=1) for _ in range(20)]
    stores[0].create_runs(runs)
    won: dict[str, list[str]] = {}
    barrier = threading.Barrier(3)

    def claim(store: Store) -> None:
        barrier.wait()
        for run in runs:
            got = store.leases.claim(run.id, 0)
            if got is not None:
                assert got.owner == store.leases.runner_id
                won.setdefault(run.id, []).append(store.leases.runner_id)

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(won) == sorted(r.id for r in runs)
    assert all(len(holders) == 1 for holders in won.values())
    assert all(stores[0].get_run(r.id).owner == won[r.id][0] for r in runs)
    mine = next(s.leases for s in stores if s.leases.runner_id == won[runs[0].id][0])
    assert mine.claim(runs[0].id, 0).owner == mine.runner_id  # mine already: still mine
    assert mine.claim("NOSUCHRUN", 0) is None


def test_a_run_that_may_not_go_yet_is_not_claimed(store: Store):
    _runner(store, "me")
    sleeping = RunRecord(
        id=new_id(), function="f", event={}, status="sleeping", wake_at=5_000, created_at=1
    )
    paused = RunRecord(id=new_id(), function="f", event={}, status="paused", created_at=1)
    store.create_runs([sleeping, paused])
    assert store.leases.claim(sleeping.id, 4_999) is None
    assert store.leases.claim(paused.id, 4_999) is None
    assert store.leases.claim(sleeping.id, 5_000).owner == store.leases.runner_id


def test_a_due_time_is_claimed_once(backend):
    stores = [_runner(backend(), f"r{i}") for i in range(3)]
    runs = [
        RunRecord(
            id=new_id(), function="f", event={}, status="sleeping", wake_at=1_000 + i, created_at=1
        )
        for i in range(30)
    ]
    later = RunRecord(
        id=new_id(), function="f", event={}, status="retrying", wake_at=9_000, created_at=1
    )
    stores[0].create_runs([*runs, later])
    assert [run_id for _, run_id in stores[0].leases.due(1_004)] == [r.id for r in runs[:5]]
    assert len(stores[0].leases.upcoming()) == 31
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(3)

    def claim(store: Store) -> None:
        barrier.wait()
        while got := store.leases.claim_due(5_000, limit=4):
            with lock:
                claimed.extend((run.id, store.leases.runner_id) for run in got)

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(run_id for run_id, _ in claimed) == sorted(r.id for r in runs)
    assert stores[0].leases.due(5_000) == []
    assert stores[1].leases.claim_due(5_000) == []
    holder = dict(claimed)[runs[0].id]
    mine = next(s for s in stores if s.leases.runner_id == holder)
    assert mine.leases.claim(runs[0].id, 5_000).owner == holder  # claimed: it may go
    assert [r.id for r in stores[2].leases.claim_due(9_000)] == [later.id]


def test_concurrency_slots_hold_a_limit_across_runners(backend):
    one, two = _runner(backend(), "one"), _runner(backend(), "two")
    assert one.leases.take_slot("k", "run-a", 2)
    assert two.leases.take_slot("k", "run-b", 2)
    assert not one.leases.take_slot("k", "run-c", 2)
    assert two.leases.take_slot("k", "run-a", 2), "a run holding a slot still holds it"
    assert two.leases.take_slot("other", "run-c", 1)
    one.leases.free_slot("k", "run-b")
    assert one.leases.take_slot("k", "run-c", 2)
    assert not two.leases.take_slot("k", "run-d", 2)


def test_concurrency_slots_are_never_overspent(backend):
    stores = [_runner(backend(), f"r{i}") for i in range(4)]
    won: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def take(store: Store, n: int) -> None:
        barrier.wait()
        for i in range(10):
            if store.leases.take_slot("k", f"run-{n}-{i}", 3):
                with lock:
                    won.append(f"run-{n}-{i}")

    threads = [threading.Thread(target=take, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(won) == 3


def test_a_window_counts_entries_and_says_when_one_fits(backend):
    one, two = _runner(backend(), "one"), _runner(backend(), "two")
    assert one.leases.window("rl/k", "e1", 10_000, 1_000, 2) == 0
    assert two.leases.window("rl/k", "e2", 10_100, 1_000, 2) == 0
    assert one.leases.window("rl/k", "e3", 10_200, 1_000, 2) == 11_000
    assert two.leases.window("rl/other", "e3", 10_200, 1_000, 2) == 0
    assert one.leases.window("rl/k", "e3", 11_000, 1_000, 2) == 0  # e1 has left it
    assert two.leases.window("rl/k", "e4", 11_050, 1_000, 2) == 11_100


def _readable(fd: int, timeout: float) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


def test_a_notify_wakes_a_runner_in_another_process(backend):
    runner, sender = backend(), backend()
    fd = runner.wake_fd()
    assert fd is not None
    deadline = time.monotonic() + 15
    while not _readable(fd, 0.05):  # (a listener may take a moment to start listening)
        assert time.monotonic() < deadline, "never woken"
        sender.notify()
    runner.drain_wake()
    assert not _readable(fd, 0)
    sender.notify()
    assert _readable(fd, 10)


def test_a_runner_never_revokes_itself(backend):
    store, observer = _runner(backend(), "me", LEASE_MS), backend()
    runner = store.leases
    wait_until(lambda: _lapsed(observer, runner.runner_id), what="the lease to lapse")
    # its lease ran out (the database was away, say): its own claims leave its row alone
    runner.take_over(("queued", "running"))
    runner.claim_due(10**15)
    assert runner.renew(60_000) is True
    assert observer.leases.runners()[runner.runner_id]["live"]
