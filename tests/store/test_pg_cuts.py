"""A connection lost inside a transaction whose block runs statements on the connection itself
(a claim's SELECT ... FOR UPDATE and DELETE): rolled back and done again, never raised as
psycopg's own error (which ended a `durable worker` when PostgreSQL restarted at that moment)."""

from __future__ import annotations

import psycopg

from durable_cli.store import RunRecord, open_database

_CUT = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE application_name = 'durable' AND pid <> pg_backend_pid()"
)


def test_a_claim_cut_at_its_own_statement_is_done_again(pg_server):
    url = pg_server.new_database()
    store = open_database(url)
    for i in range(3):
        store.put_event({"id": f"e{i}", "name": "x", "data": {}, "ts": i})
    planned: list[str] = []

    def plan(event: dict) -> list[RunRecord]:
        planned.append(event["id"])
        if len(planned) == 1:  # the first try loses its connection before its DELETE
            with psycopg.connect(url, autocommit=True) as con:
                con.execute(_CUT)
        return []

    assert store.claim_events(plan) == []
    assert store.queued_count() == 0  # the second try took the events off the queue
    assert planned[:1] == ["e0"] and planned[-3:] == ["e0", "e1", "e2"]
    store.close()
