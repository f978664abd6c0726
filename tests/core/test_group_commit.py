"""Group commit: rows of concurrent writers share one statement; a finished run is never
overwritten; one bad row does not sink the others."""

from __future__ import annotations

import threading
import time

from durable_cli.errors import LeaseLost
from durable_cli.store import RunRecord
from durable_cli.store._batch import Batcher
from durable_cli.store._group import GroupCommit


def _value(store, key):
    row = store.rows.cache.sql("SELECT value, tag FROM Cache WHERE key = ? AND raw = 1", (key,))
    return row.fetchone()


def _run(status: str) -> RunRecord:
    return RunRecord(id="R1", function="f", event={}, status=status, created_at=0)


def test_a_batch_writes_every_row_but_leaves_a_finished_run_alone(store):
    store.create_runs([_run("queued")])
    store.save_run(_run("cancelled"), guard=False)
    batch = [
        [("run/R1", "running", b'{"status":"running"}')],
        [("st/R1/000000", None, b'{"id":"a"}')],
        [("st/R1/000001", None, b'{"id":"b"}')],
    ]
    assert store.group.commit(batch) == [[False], [True], [True]]
    assert _value(store, "run/R1")[1] == "cancelled"
    assert bytes(_value(store, "st/R1/000001")[0]) == b'{"id":"b"}'


def _queued_behind_a_leader(commit, items):
    """Submit `items` from threads while the first writer's commit is held, so that they all
    queue behind it and go in one batch; each item's result or error."""
    entered, release = threading.Event(), threading.Event()
    batches = []

    def held(batch):
        batches.append(list(batch))
        if len(batches) == 1:
            entered.set()
            assert release.wait(10)
        return commit(batch)

    batcher = Batcher(held)
    outcomes: dict[int, object] = {}

    def writer(n):
        try:
            outcomes[n] = batcher.submit(items[n])
        except BaseException as exc:  # the outcome under test (LeaseLost is one)
            outcomes[n] = exc

    first = threading.Thread(target=writer, args=(0,))
    first.start()
    assert entered.wait(10)
    others = [threading.Thread(target=writer, args=(n,)) for n in range(1, len(items))]
    for t in others:
        t.start()
    deadline = time.monotonic() + 10
    while len(batcher._queue) < len(items) - 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    release.set()
    for t in [first, *others]:
        t.join(10)
    return [outcomes[n] for n in range(len(items))], batches


def test_one_bad_row_fails_alone(store):
    items = [
        [("st/X/lead", None, b"0")],
        [("st/X/000000", None, b"1")],
        [("st/X/000001", None, object())],  # SQLite cannot bind it
        [("st/X/000002", None, b"3")],
    ]
    outcomes, batches = _queued_behind_a_leader(store.group.commit, items)
    assert len(batches[1]) == 3  # the three queued writers went together, then each alone
    assert outcomes[0] == [True] and outcomes[1] == [True] and outcomes[3] == [True]
    assert isinstance(outcomes[2], Exception)
    assert _value(store, "st/X/000002") is not None


def test_a_lost_lease_fails_every_writer_of_the_batch():
    def commit(batch):
        raise LeaseLost("lease run/R1 was revoked: write refused")

    outcomes, batches = _queued_behind_a_leader(commit, [1, 2, 3])
    assert all(isinstance(outcome, LeaseLost) for outcome in outcomes)
    assert batches == [[1], [2, 3]]  # not tried again one by one: the lease is everyone's


def test_concurrent_writers_all_land(store):
    group = GroupCommit(lambda: store.rows.cache.connection)
    results: list[bool] = []

    def writer(n: int) -> None:
        for i in range(50):
            results.append(group.write(f"st/T{n}/{i:06d}", None, b"{}"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [True] * 400
    count = store.rows.cache.sql("SELECT COUNT(*) FROM Cache WHERE key >= 'st/T' AND key < 'st/U'")
    assert count.fetchone()[0] == 400


def test_a_writer_may_bring_several_rows(store):
    rows = [(f"st/M/{i:06d}", None, b"{}") for i in range(5000)]  # over one statement's
    assert store.group.write_rows(rows) == [True] * 5000
    count = store.rows.cache.sql(
        "SELECT COUNT(*) FROM Cache WHERE key >= 'st/M/' AND key < 'st/M0'"
    )
    assert count.fetchone()[0] == 5000


def test_save_runs_leaves_a_cancelled_run_and_still_writes_a_large_one(store):
    runs = [
        RunRecord(id=f"R{n}", function="f", event=event, status="queued", created_at=0)
        for n, event in enumerate([{}, {"blob": "x" * 100_000}, {}])  # the second needs a file
    ]
    store.create_runs(runs)
    store.save_run(
        RunRecord(id="R0", function="f", event={}, status="cancelled", created_at=0), guard=False
    )
    for run in runs:
        run.status = "running"
    assert store.save_runs(runs) == [False, True, True]
    assert store.get_run("R0").status == "cancelled"
    large = store.get_run("R1")
    assert large.status == "running" and large.event == {"blob": "x" * 100_000}
    assert store.get_run("R2").status == "running"
