"""`run_function`'s throw-away journals: set up once per process, wiped blank after each call,
never shared by two calls at once, and removed when the process exits."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import durable_cli as durable
from durable_cli.store import RunRecord, StepRecord, open_store
from durable_cli.testing import run_function
from durable_cli.testing._scratch import scratch

received: list[str] = []


@durable.function(id="once-per-key", trigger="note", idempotency="event.data.key")
def once_per_key(event: durable.Event, step: durable.Step) -> None:
    step.run("record", lambda: received.append(event.data["key"]))


@durable.function(id="notes", trigger="go")
def notes(event: durable.Event, step: durable.Step) -> str:
    step.send_event("send", "note", {"key": "k1"})
    return step.run("done", lambda: "sent")


def test_calls_share_no_state_not_even_an_idempotency_key() -> None:
    received.clear()

    for _ in range(2):
        assert run_function(notes, functions=[once_per_key]).output == "sent"

    # one journal for both calls would have dropped the second note as a duplicate
    assert received == ["k1", "k1"]


def _fill(store) -> str:
    """Write one of every kind of row a call leaves behind; the run's id."""
    event = {"id": "ev-1", "name": "go", "data": {"big": "x" * 2**17}, "ts": 1}
    run = RunRecord(id="run-1", function="notes", event=event, status="sleeping", created_at=1)
    run.wake_at = 5
    store.put_event(event)  # queued, and large enough for a value file of its own
    store.create_runs([run], [StepRecord(run_id=run.id, seq=0, id="done", kind="run")])
    store.add_failure("fn:notes/done", 2, "boom")
    store.set_flag("stepmode/notes", True)
    store.leases.register("runner-1", 5000)  # and never released: a runner that broke off
    return run.id


def test_the_next_call_gets_the_same_journal_wiped_blank() -> None:
    with scratch() as bench:
        store = bench.store
        folder = store.path
        assert os.stat(folder).st_mode & 0o777 == 0o700
        blank = sorted(store.rows.cache.sql("SELECT key FROM Cache").fetchall())
        run_id = _fill(store)
        assert store.get_run(run_id) is not None and store.has_queued()
        assert _value_files(folder)

    with scratch() as again:  # this thread's previous bench, idle again
        store = again.store
        assert store.path == folder
        assert sorted(store.rows.cache.sql("SELECT key FROM Cache").fetchall()) == blank
        assert store.get_run(run_id) is None and store.get_event("ev-1") is None
        assert not store.has_queued() and store.failures() == {}
        assert store.get_flag("stepmode/notes") is None and store.leases.runners() == {}
        assert _value_files(folder) == []


def _value_files(folder: str) -> list[str]:
    return [name for _, _, names in os.walk(folder) for name in names if name.endswith(".val")]


def test_a_call_that_fails_closes_its_journal_instead() -> None:
    with pytest.raises(RuntimeError), scratch() as bench:
        folder = bench.store.path
        _fill(bench.store)
        raise RuntimeError("say, a timeout, with a step still running in a worker thread")

    assert not os.path.exists(folder)
    with scratch() as fresh:
        assert fresh.store.get_run("run-1") is None


def test_calls_at_the_same_time_get_journals_of_their_own() -> None:
    both_in = threading.Barrier(2, timeout=30)
    paths: list[str] = []

    def hold() -> None:
        with scratch() as bench:
            paths.append(bench.store.path)
            both_in.wait()  # each is inside its call while the other takes one

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(set(paths)) == 2


def test_a_state_dir_given_is_kept(tmp_path) -> None:
    result = run_function(notes, functions=[once_per_key], state_dir=tmp_path / "kept")

    store = open_store(str(tmp_path / "kept"))
    try:
        assert store.get_run(result.id) is not None
    finally:
        store.close()


def test_calls_from_many_threads_at_once() -> None:
    @durable.function(id="small", trigger="go")
    def small(event: durable.Event, step: durable.Step) -> int:
        return step.run("one", lambda: event.data["n"])

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: run_function(small, {"n": n}), range(8)))

    assert [r.output for r in results] == list(range(8))
    assert [len(r.steps) for r in results] == [1] * 8


_ONE_CALL = """
import durable_cli as durable
from durable_cli.testing import run_function
from durable_cli.testing._scratch import scratch

@durable.function(id="f", trigger="go")
def f(event, step):
    return step.run("one", lambda: 1)

assert run_function(f).output == 1
with scratch() as bench:
    print(bench.store.path, flush=True)
"""


def test_the_journals_are_removed_when_the_process_exits() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _ONE_CALL], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    folder = done.stdout.strip()
    assert os.path.isabs(folder)
    assert not os.path.exists(os.path.dirname(folder))  # the process's whole scratch folder
