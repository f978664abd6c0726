"""Every command with `--database-url` (or `$DURABLE_DATABASE_URL`), through the real `durable`
command: the state lives in the database instead of the state dir (CONTRACT §6)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from cli_support import Project

from durable_cli.errors import InputError
from durable_cli.store import RunRecord, open_database


@pytest.fixture
def url(project: Project, pg_server) -> Iterator[str]:
    """A fresh database, and a project whose workflows are pg_flows.py."""
    project.add("pg_flows.py")
    yield pg_server.new_database()


def _db(project: Project, url: str, *args: str, **env: str) -> str:
    return project.ok(*args, "--database-url", url, **env)


def test_each_command_works_on_the_database_and_leaves_the_state_dir_alone(
    project: Project, url: str
):
    event_id = _db(project, url, "send", "pg/five", "--data", '{"n": 7}')
    undo = _db(project, url, "fail", "s1", "--function", "five")
    assert f"undo: durable fail s1 --function five --database-url {url} --clear" in undo
    pending = json.loads(_db(project, url, "fail", "--list", "--json"))
    assert [(f["step"], f["function"]) for f in pending] == [("s1", "five")]
    worker = project.start(
        "worker", "--until-idle", "--idle-wait", "5", "--database-url", url, "--lease", "1"
    )
    assert worker.wait(60) == 0, worker.stderr
    (run,) = json.loads(_db(project, url, "runs", "--json"))
    assert (run["status"], run["event"]["id"], run["output"]) == (
        "completed",
        event_id,
        [70, 71, 72, 73, 74],
    )
    shown = json.loads(_db(project, url, "show", run["id"][:10], "--json"))
    assert [(s["id"], s["attempts"]) for s in shown["steps"]] == [
        ("s0", 1), ("s1", 2), ("s2", 1), ("s3", 1), ("s4", 1)
    ]  # fmt: skip
    replayed = _db(project, url, "replay", run["id"], "--from", "s3")
    assert _db(project, url, "cancel", replayed) == f"cancelled {replayed}"
    assert json.loads(_db(project, url, "show", replayed, "--json"))["status"] == "cancelled"
    assert "five" in _db(project, url, "functions")
    assert not project.state.exists()  # nothing went to the state dir


def test_continue_and_fail_clear_on_the_database(project: Project, url: str):
    store = open_database(url)
    try:
        event = {"id": "01EVENT", "name": "pg/five", "data": {"n": 1}, "ts": 1}
        store.put_event(event, queue=False)
        held = RunRecord(
            id="01HELD", function="five", event=event, status="paused",
            meta={"code_change": {"step": "s0"}},
        )  # fmt: skip
        store.create_runs([held])
        assert _db(project, url, "continue", "01HELD") == "continuing 01HELD"
        assert store.get_run("01HELD").status == "queued"
        _db(project, url, "fail", "s2", "--function", "five", "--times", "-1")
        doctor = project.cli("doctor", "--database-url", url)
        assert doctor.returncode == 0, doctor.stderr
        assert "warn  injected-failures: 1 injected failure(s) pending" in doctor.stdout
        assert _db(project, url, "fail", "s2", "--function", "five", "--clear").startswith(
            "removed: "
        )
        assert store.failures() == {}
    finally:
        store.close()


def test_the_variable_names_the_database_and_the_command_line_beats_it(project: Project, url: str):
    event_id = project.ok("send", "pg/five", "--data", '{"n": 1}', DURABLE_DATABASE_URL=url)
    listed = json.loads(project.ok("runs", "--json", DURABLE_DATABASE_URL=url))
    assert listed == []  # queued, no run yet: but the event is in the database
    store = open_database(url)
    try:
        assert store.get_event(event_id)["data"] == {"n": 1}
    finally:
        store.close()
    # --state-dir typed beats the variable: the state dir's (empty) view, none created
    other = project.root / "elsewhere"
    done = project.cli("send", "pg/five", "--state-dir", str(other), DURABLE_DATABASE_URL=url)
    assert done.returncode == 0 and (other / "cache.db").exists()
    both = project.cli("runs", "--state-dir", str(other), "--database-url", url)
    assert both.returncode == 2
    assert both.stderr.strip() == "error: give --state-dir or --database-url, not both"


def test_durable_cli_send_takes_a_database_url(url: str):
    import durable_cli

    first = durable_cli.send("pg/five", {"n": 2}, database_url=url)
    again = durable_cli.send("pg/five", {"n": 3}, database_url=url, id=first)
    assert again == first
    with pytest.raises(InputError, match="not both"):
        durable_cli.send("pg/five", {"n": 4}, database_url=url, state_dir="elsewhere")
    store = open_database(url)
    try:
        assert store.queued_count() == 1
        assert store.get_event(first)["data"] == {"n": 2}
    finally:
        store.close()


def test_doctor_names_runs_no_live_worker_will_take(project: Project, url: str):
    store, other = open_database(url), open_database(url)
    try:
        event = {"id": "01EVENT", "name": "pg/five", "data": {"n": 1}, "ts": 1}
        store.put_event(event, queue=False)
        store.create_runs([RunRecord(id="01STUCK", function="five", event=event, status="queued")])
        done = project.cli("doctor", "--database-url", url)
        assert done.returncode == 0, done.stderr  # a warning: nothing broken, nothing moving
        assert "info  workers: no live worker" in done.stdout
        assert "warn  stranded: 1 run(s) held by no live worker (01STUCK)" in done.stdout
        other.leases.register("01WORKER", 60_000)  # a worker up: it will take the run
        done = project.cli("doctor", "--database-url", url, "--json")
        found = {f["code"]: f for f in json.loads(done.stdout)}
        assert found["workers"]["message"].startswith("1 live worker(s): pid ")
        assert found["orphaned"]["level"] == "info" and "stranded" not in found
        assert found["schema"]["level"] == "ok"
    finally:
        other.close()
        store.close()


def test_a_database_url_without_the_driver_says_how_to_get_it(project: Project):
    blocked = (
        "import sys; sys.modules['psycopg'] = None; sys.argv[0] = 'durable';"
        " from durable_cli.cli import main; main()"
    )
    url = "postgresql://durable@127.0.0.1:1/durable"
    done = subprocess.run(
        [sys.executable, "-c", blocked, "runs", "--database-url", url],
        cwd=project.root, env=project.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "error: a database URL needs the PostgreSQL driver: pip install 'durable-cli[postgres]'\n"
    )


def test_bad_input_with_a_database_is_refused_before_anything_runs(project: Project, url: str):
    cases = [
        (["worker", "--lease", "0"], "error: --lease must be more than 0 seconds"),
        (["dev", "--headless", "--durability", "full"], "error: --durability is a state dir's"),
        (["doctor", "some/dir"], "error: durable doctor: PATH some/dir is a state dir and"),
    ]
    for args, said in cases:
        done = project.cli(*args, "--database-url", url)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(said) and done.stderr.count("\n") == 1, done.stderr
    store = open_database(url)
    try:
        assert store.leases.runners() == {} and list(store.list_runs()) == []
    finally:
        store.close()
