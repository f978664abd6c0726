"""WAL checkpoints on a thread of their own: the runner's commits nudge it, it copies the log
into the database while writers go on, and closing the store stops it."""

from __future__ import annotations

import os
import threading
import time

from durable_cli.store import RunRecord, StepRecord

DEADLINE_S = 10.0


def _steps(n: int) -> list[StepRecord]:
    return [StepRecord("R1", f"s{i}", i, kind="run", output="x" * 200) for i in range(n)]


def test_commits_get_their_wal_copied_into_the_database_off_the_writers_thread(store):
    db = os.path.join(store.path, "cache.db")
    before = os.path.getsize(db)
    store.create_runs([RunRecord(id="R1", function="f", event={}, status="queued", created_at=0)])
    # far below the auto-checkpoint mark: only the checkpoint thread copies these pages
    for chunk in range(20):
        store.save_runs([], _steps(500)[chunk * 25 : (chunk + 1) * 25])
    deadline = time.monotonic() + DEADLINE_S
    while store.checkpoints.passes == 0 or os.path.getsize(db) <= before:
        assert time.monotonic() < deadline, "no checkpoint copied the log into the database"
        store.save_runs([], _steps(1))  # a later commit nudges again once the interval is up
        time.sleep(0.01)
    assert len(store.load_steps("R1")) == 500
    thread = store.checkpoints.thread
    assert thread.daemon and thread is not threading.current_thread()


def test_closing_the_store_stops_the_checkpoint_thread(tmp_path):
    from durable_cli.store import open_store

    store = open_store(str(tmp_path / "state"))
    store.save_runs([], _steps(3))
    thread = store.checkpoints.thread
    assert thread is not None and thread.is_alive(), "the first commit starts the thread"
    store.close()
    assert not thread.is_alive()
    reopened = open_store(str(tmp_path / "state"), create=False)
    assert [s.id for s in reopened.load_steps("R1")] == ["s0", "s1", "s2"]
    reopened.close()


def test_a_store_that_never_commits_through_the_group_starts_no_thread(tmp_path):
    from durable_cli.store import open_store

    store = open_store(str(tmp_path / "state"))
    store.put_event({"id": "E1", "name": "a/b", "data": {}, "ts": 0})  # as `durable send`
    assert store.checkpoints.thread is None
    store.close()
