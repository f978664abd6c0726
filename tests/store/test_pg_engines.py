"""Two engines on one PostgreSQL database, each with its own store object (as two worker
processes would): the scenarios of tests/engine_pair.py, which the embedded store runs too."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from engine_pair import SCENARIOS, Pair, engines, finished, serve_both, two_stores
from helpers import until

import durable_cli as durable


@pytest.fixture
def stores(pg_server) -> Iterator[Pair]:
    """Two store objects on one fresh database: one per engine."""
    from durable_cli.store import open_database

    url = pg_server.new_database()
    with two_stores(lambda: open_database(url)) as pair:
        yield pair


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_two_engines_on_one_database(stores: Pair, scenario: Callable[[Pair], None]):
    scenario(stores)


def test_a_database_restart_mid_work_strands_nothing(pg_server, stores: Pair):
    ran: Counter[tuple[int, int]] = Counter()
    lock = threading.Lock()

    def work(n: int, i: int) -> int:
        time.sleep(0.005)
        with lock:
            ran[(n, i)] += 1
        return n * 10 + i

    @durable.function(id="five-steps", trigger="go")
    def five(event, step):
        return [step.run(f"s{i}", work, event.data["n"], i) for i in range(5)]

    a, b = engines(stores, five, concurrency=4)
    for n in range(30):
        a.send("go", {"n": n})

    async def scenario() -> None:
        serving = asyncio.ensure_future(
            serve_both(a, b, lambda: finished(stores[0], 30), timeout=120)
        )
        await until(lambda: sum(ran.values()) >= 40, timeout=60, what="work under way")
        await asyncio.to_thread(pg_server.restart, "immediate")
        await serving

    asyncio.run(scenario())
    a.close()
    b.close()
    runs = list(stores[0].list_runs())
    assert [r.status for r in runs] == ["completed"] * 30
    for run in runs:
        n = run.event["data"]["n"]
        assert run.output == [n * 10 + i for i in range(5)]
        assert [s.output for s in stores[0].load_steps(run.id)] == run.output
    assert set(ran) == {(n, i) for n in range(30) for i in range(5)}
    # a step in flight when the database went away may run again; none that was journaled
    assert sum(count - 1 for count in ran.values()) <= 8
