"""`run_function`'s throw-away journals: a copy of one blank journal per call, nothing shared."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import durable_cli as durable
from durable_cli.store import open_store
from durable_cli.testing import run_function
from durable_cli.testing._scratch import scratch_store

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


def test_each_journal_is_a_fresh_state_dir_removed_after_the_call() -> None:
    with scratch_store() as store:
        folder = store.path
        assert list(store.list_runs()) == []
        assert os.stat(folder).st_mode & 0o777 == 0o700
        store.set_flag("seen", True)
    assert not os.path.exists(folder)
    with scratch_store() as again:
        assert again.path != folder and again.get_flag("seen") is None


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
