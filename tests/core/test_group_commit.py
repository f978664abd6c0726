"""Group commit: rows of concurrent writers share one statement; a finished run is never
overwritten; one bad row does not sink the others."""

from __future__ import annotations

import threading

from durable_cli.store import RunRecord
from durable_cli.store._group import GroupCommit, _Pending


def _value(store, key):
    row = store.rows.cache.sql("SELECT value, tag FROM Cache WHERE key = ? AND raw = 1", (key,))
    return row.fetchone()


def _run(status: str) -> RunRecord:
    return RunRecord(id="R1", function="f", event={}, status=status, created_at=0)


def test_a_batch_writes_every_row_but_leaves_a_finished_run_alone(store):
    store.create_runs([_run("queued")])
    store.save_run(_run("cancelled"), guard=False)
    group = store.group
    batch = [
        _Pending([("run/R1", "running", b'{"status":"running"}')]),
        _Pending([("st/R1/000000", None, b'{"id":"a"}')]),
        _Pending([("st/R1/000001", None, b'{"id":"b"}')]),
    ]
    group._commit(batch)
    assert [item.written for item in batch] == [[False], [True], [True]]
    assert _value(store, "run/R1")[1] == "cancelled"
    assert bytes(_value(store, "st/R1/000001")[0]) == b'{"id":"b"}'


def test_one_bad_row_fails_alone(store):
    group = store.group
    batch = [
        _Pending([("st/X/000000", None, b"1")]),
        _Pending([("st/X/000001", None, object())]),  # SQLite cannot bind it
        _Pending([("st/X/000002", None, b"3")]),
    ]
    group._commit(batch)
    assert [item.written for item in batch] == [[True], [False], [True]]
    assert batch[1].error is not None and batch[0].error is None
    assert _value(store, "st/X/000002") is not None


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
