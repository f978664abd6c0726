"""What only the PostgreSQL store has: its schema and version, reaching (or not) the database,
wake-ups by LISTEN/NOTIFY, lost connections, and a revocation that waits for a write in flight."""

from __future__ import annotations

import select
import threading
import time

import pytest
from helpers import wait_until
from pg_proxy import CommitCutter

from durable_cli.errors import LeaseLost, SchemaVersionError, StateError
from durable_cli.store import RunRecord, new_id

psycopg = pytest.importorskip("psycopg")
from durable_cli.store._postgres import SCHEMA_VERSION, open_database  # noqa: E402


def _sql(url: str, statement: str, args: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(statement, args)
        return cur.fetchall() if cur.description else []


_CUT = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE application_name = 'durable' AND pid <> pg_backend_pid()"
)


def _tables(url: str) -> list[tuple]:
    return _sql(
        url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'durable'"
        " ORDER BY 1",
    )


def test_the_schema_is_created_once_on_first_use_even_by_racing_processes(pg_server):
    url = pg_server.new_database(schema=False)
    with pytest.raises(StateError, match="no durable schema in this database"):
        open_database(url, create=False)
    assert _tables(url) == []
    opened, errors = [], []
    barrier = threading.Barrier(4)

    def open_it() -> None:
        barrier.wait()
        try:
            opened.append(open_database(url))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(opened) == 4
    assert _sql(url, "SELECT value::text FROM durable.meta") == [
        (f'{{"version":{SCHEMA_VERSION}}}',)
    ]
    assert ("runs",) in _tables(url) and ("runners",) in _tables(url)
    for store in opened:
        store.close()
    open_database(url, create=False).close()


def test_a_schema_of_version_1_is_read_as_it_is_and_brought_up_to_date_when_opened(pg_server):
    url = pg_server.new_database()
    _sql(url, "DROP INDEX durable.events_by_name")  # as version 1 made it
    _sql(url, "UPDATE durable.meta SET value = '{\"version\":1}' WHERE key = 'schema'")
    _sql(url, 'INSERT INTO durable.events VALUES (\'e1\', \'a\', 1, \'{"id":"e1","name":"a"}\')')
    store = open_database(url, create=False)  # a reader changes nothing, and reads it all
    assert store.latest_event("a") == {"id": "e1", "name": "a"}
    store.close()
    assert _sql(url, "SELECT value::text FROM durable.meta") == [('{"version":1}',)]
    open_database(url).close()
    assert _sql(url, "SELECT value::text FROM durable.meta") == [
        (f'{{"version":{SCHEMA_VERSION}}}',)
    ]
    indexes = _sql(url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'durable'")
    assert ("events_by_name",) in indexes


def test_a_newer_schema_is_refused_and_left_untouched(pg_server):
    url = pg_server.new_database()
    _sql(url, "UPDATE durable.meta SET value = '{\"version\": 99}' WHERE key = 'schema'")
    before = _tables(url)
    with pytest.raises(SchemaVersionError, match="version 99; this durable reads version"):
        open_database(url)
    assert _tables(url) == before
    assert _sql(url, "SELECT value::text FROM durable.meta") == [('{"version": 99}',)]


def test_an_unreachable_database_is_one_line_naming_host_and_reason(pg_server):
    url = f"postgresql://me:s3cret@127.0.0.1:{pg_server.port + 1}/db"
    started = time.monotonic()
    with pytest.raises(StateError) as caught:
        open_database(url)
    message = str(caught.value)
    assert "\n" not in message and "s3cret" not in message
    assert f"127.0.0.1:{pg_server.port + 1}/db" in message and "refused" in message
    assert time.monotonic() - started < 10
    with pytest.raises(StateError, match='database "nope" does not exist'):
        open_database(pg_server.url("nope"))


def test_the_path_names_the_database_with_its_password_masked(pg_server):
    url = pg_server.new_database().replace("postgres@", "postgres:hunter2@")
    store = open_database(url)
    assert "hunter2" not in store.path and "postgres:***@127.0.0.1" in store.path
    store.close()


def test_a_sent_event_wakes_a_listening_runner_by_itself(pg_server):
    url = pg_server.new_database()
    runner, sender = open_database(url), open_database(url)
    fd = runner.wake_fd()
    assert select.select([fd], [], [], 10)[0], "a listener pokes once it is connected"
    runner.drain_wake()
    assert not select.select([fd], [], [], 0)[0]
    sender.put_event({"id": "e1", "name": "x", "data": {}, "ts": 1})
    assert select.select([fd], [], [], 10)[0]
    runner.close()
    sender.close()


def test_a_database_restart_is_ridden_out(pg_server):
    url = pg_server.new_database()
    runner, sender = open_database(url), open_database(url)
    runner.leases.register("runner", 60_000)
    fd = runner.wake_fd()
    assert select.select([fd], [], [], 10)[0]
    sender.put_event({"id": "e0", "name": "x", "data": {}, "ts": 0})
    pg_server.stop("immediate")
    sent: list[bool] = []
    sending = threading.Thread(
        target=lambda: sent.append(sender.put_event({"id": "e1", "name": "x", "data": {}, "ts": 1}))
    )
    sending.start()
    runner.drain_wake()
    pg_server.start()
    sending.join(60)
    assert sent == [True]
    assert select.select([fd], [], [], 15)[0], "the listener is back (and pokes)"
    made = runner.claim_events(lambda e: [RunRecord(id=new_id(), function="f", event=e)])
    assert sorted(r.event["id"] for r in made) == ["e0", "e1"]
    runner.drain_wake()
    sender.put_event({"id": "e2", "name": "x", "data": {}, "ts": 2})
    assert select.select([fd], [], [], 10)[0], "LISTEN again after the restart"
    runner.close()
    sender.close()


def test_a_connection_cut_inside_a_batch_writes_nothing_and_says_so(pg_server):
    url = pg_server.new_database()
    store = open_database(url)
    with pytest.raises(StateError, match="rolled back"), store.batch():
        store.set_flag("a", 1)
        _sql(url, _CUT)
        store.set_flag("b", 1)
    assert store.get_flag("a") is None and store.get_flag("b") is None
    store.set_flag("c", 1)  # and the store carries on
    assert store.flags("") == {"c": 1}
    store.close()


def test_revoking_a_runner_waits_for_its_write_in_flight(pg_server):
    url = pg_server.new_database()
    slow, other = open_database(url), open_database(url)
    slow.leases.register("slow", 300)
    other.leases.register("other", 60_000)
    run = RunRecord(id=new_id(), function="f", event={}, status="running", owner="slow")
    slow.create_runs([run])
    inside, finish = threading.Event(), threading.Event()

    def write_slowly() -> None:
        with slow.batch():  # the fence is checked at BEGIN and holds until COMMIT
            inside.set()
            finish.wait(30)
            slow.set_flag("late", 1)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    assert inside.wait(10)
    wait_until(lambda: not other.leases.runners()["slow"]["live"], what="the lease to lapse")
    taken: list[list[RunRecord]] = []
    taker = threading.Thread(target=lambda: taken.append(other.leases.take_over(("running",))))
    taker.start()
    wait_until(
        lambda: _sql(
            url,
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
        ),
        what="the revocation to wait for the write in flight",
    )
    assert taker.is_alive()
    finish.set()
    writer.join(30)
    taker.join(30)
    assert [r.id for r in taken[0]] == [run.id]
    assert other.get_flag("late") == 1  # committed before the revocation
    with pytest.raises(LeaseLost):
        slow.set_flag("later", 1)
    slow.close()
    other.close()


def test_after_a_cut_the_store_reconnects_at_once_not_through_each_dead_connection(pg_server):
    url = pg_server.new_database()
    store = open_database(url)
    barrier = threading.Barrier(12)

    def read() -> None:  # twelve threads at once: twelve pooled connections
        barrier.wait()
        store.get_flag("x")

    threads = [threading.Thread(target=read) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    _sql(url, _CUT)
    started = time.monotonic()
    store.set_flag("x", 1)
    assert store.get_flag("x") == 1
    assert time.monotonic() - started < 2, "tried the dead connections one by one"
    store.close()


def test_a_claim_whose_commit_answer_is_lost_is_neither_dropped_nor_done_twice(pg_server):
    url = pg_server.new_database()
    cutter = CommitCutter(pg_server.port)
    store = open_database(cutter.url(url.rsplit("/", 1)[1]))
    for i in range(3):
        store.put_event({"id": f"e{i}", "name": "x", "data": {}, "ts": i})
    planned: list[str] = []

    def plan(event: dict) -> list[RunRecord]:
        planned.append(event["id"])
        return [RunRecord(id=new_id(), function="f", event=event)]

    cutter.armed.set()
    made = store.claim_events(plan)
    assert cutter.cuts == 1, "the COMMIT's answer was not cut"
    # it committed: the runs it made are handed back (looked up by transaction id), once
    assert [r.event["id"] for r in made] == ["e0", "e1", "e2"] == planned
    assert not store.has_queued() and store.count_runs() == 3
    assert {r.id for r in store.list_runs()} == {r.id for r in made}
    store.close()
    cutter.close()
