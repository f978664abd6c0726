"""`durable dev --database-url`: the TUI shows the runs other workers move on, and its status
line names the database and counts the live workers (cli/_others.py feeding the engine)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_support import shown, wait_for

from durable_cli.cli._others import OtherWorkers
from durable_cli.engine import Engine, load_paths
from durable_cli.store import RunRecord, Store, open_database
from durable_cli.tui.app import DurableApp


@pytest.fixture
def shared(pg_server, workflow: Path) -> Iterator[tuple[Engine, Store]]:
    """An engine on a fresh database, and another store object on it: a second worker."""
    url = pg_server.new_database()
    store, other = open_database(url), open_database(url)
    engine = Engine(store, load_paths([str(workflow)]), lease_s=1.0)
    yield engine, other
    engine.close()
    store.close()
    other.close()


async def test_other_workers_runs_and_the_live_count_show_up(shared):
    engine, other = shared
    others = OtherWorkers(engine, "db.internal:5432/durable", every_s=0.05)
    app = DurableApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        main = app.main
        assert main is not None
        others.start()
        try:
            await wait_for(
                pilot,
                lambda: "db.internal:5432/durable · 1 worker live" in shown(main.status),
                "this worker counted on the status line",
            )
            other.leases.register("01OTHERWORKER", 60_000)
            await wait_for(
                pilot, lambda: "2 workers live" in shown(main.status), "the second worker"
            )
            event = {"id": "01OTHEREVENT", "name": "test/go", "data": {"n": 9}, "ts": 1}
            other.put_event(event, queue=False)
            run = RunRecord(
                id="01OTHERRUN", function="pipeline", event=event, status="running",
                owner="01OTHERWORKER",
            )  # fmt: skip
            other.create_runs([run])

            def listed() -> RunRecord | None:
                return next((r for r in main.runs.runs if r.id == run.id), None)

            await wait_for(pilot, listed, "the other worker's run in the list")
            run.status, run.output = "completed", {"total": 9}
            other.save_run(run)
            await wait_for(
                pilot, lambda: listed().status == "completed", "its completion in the list"
            )
            other.leases.release()
            await wait_for(
                pilot, lambda: "1 worker live" in shown(main.status), "the second one gone"
            )
        finally:
            others.close()
