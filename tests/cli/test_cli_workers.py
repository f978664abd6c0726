"""The real `durable worker`, several at once on one PostgreSQL database (CONTRACT §6): a run
executes on one worker at a time, completed steps never run again, a dead worker's runs move on
within the lease, timers, concurrency keys and cron ticks hold across workers, and a database
restart strands nothing."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator

import pytest
from cli_support import Project
from helpers import wait_until
from worker_support import LEASE_S, Workers, elapsed_until


@pytest.fixture
def workers(project: Project, pg_server) -> Iterator[Workers]:
    """A project with the many-workers workflows, on a fresh database of its own."""
    project.add("pg_flows.py")
    cluster = Workers(project, pg_server.new_database())
    yield cluster
    cluster.close()


def _keys(calls: list[tuple[str, int]], prefix: str) -> Counter[str]:
    return Counter(key for key, _ in calls if key.startswith(prefix))


def test_three_workers_share_150_runs_and_run_every_step_once(workers: Workers):
    workers.start(3, "--concurrency", "8")
    for n in range(150):
        workers.send("pg/five", {"n": n})
    workers.wait_finished(150, timeout=120)
    calls = workers.calls()
    assert _keys(calls, "five/") == Counter(
        {f"five/{n}/{i}": 1 for n in range(150) for i in range(5)}
    )
    for run in workers.runs():
        n = run.event["data"]["n"]
        assert run.output == [n * 10 + i for i in range(5)]
    per_worker = Counter(pid for _, pid in calls)
    assert set(per_worker) == {w.proc.pid for w in workers.procs}, per_worker  # all took part
    assert min(per_worker.values()) >= 750 // 20, per_worker  # none sat it out nearly
    assert workers.stop_all() == [0, 0, 0]
    assert workers.live() == 0  # each gave its lease up on SIGTERM


def test_a_killed_workers_runs_finish_on_another_and_completed_steps_never_rerun(
    workers: Workers,
):
    workers.start(2, "--concurrency", "4")
    for n in range(4):
        workers.send("pg/block", {"n": n})
    # every run is inside its `hold` step, on one worker or the other
    calls = workers.wait_calls(
        lambda c: c if sum(key.endswith("/hold") for key, _ in c) == 4 else None,
        "every run holding",
    )
    held_by = {key: pid for key, pid in calls if key.endswith("/hold")}
    victim_pid = Counter(held_by.values()).most_common(1)[0][0]
    victim = next(w for w in workers.procs if w.proc.pid == victim_pid)
    moved = {key for key, pid in held_by.items() if pid == victim_pid}
    victim.proc.send_signal(signal.SIGKILL)
    victim.wait(10)

    def taken_over() -> bool:
        again = [key for key, pid in workers.calls() if key in moved and pid != victim_pid]
        return len(again) == len(moved)

    took = elapsed_until(taken_over, 30, "the killed worker's steps running on the other")
    # the lease runs out within LEASE_S of the kill; the survivor looks at every renewal (a
    # third of a lease) and claims at once: what is left is process scheduling on a busy box
    assert took <= LEASE_S + 2.0, took
    (workers.project.root / "release").touch()
    workers.wait_finished(4, timeout=60)
    calls = workers.calls()
    assert _keys(calls, "block/") == Counter(
        {f"block/{n}/{s}": 1 for n in range(4) for s in ("before", "after")}
        | {f"block/{n}/hold": 2 if f"block/{n}/hold" in moved else 1 for n in range(4)}
    )


def test_a_sleep_fires_once_across_workers(workers: Workers):
    workers.start(3, "--concurrency", "8")
    for n in range(20):
        workers.send("pg/nap", {"n": n})
    workers.wait_finished(20, timeout=60)
    expected = {f"nap/{n}/{s}": 1 for n in range(20) for s in ("a", "b")}
    assert _keys(workers.calls(), "nap/") == Counter(expected)


def test_a_concurrency_key_of_one_never_overlaps_across_workers(workers: Workers):
    workers.start(3, "--concurrency", "8")
    for n in range(12):
        workers.send("pg/serial", {"n": n})
    workers.wait_finished(12, timeout=60)
    calls = workers.calls()
    assert "overlap" not in {key for key, _ in calls}
    assert len(_keys(calls, "serial/")) == 24
    assert len({pid for key, pid in calls if key.startswith("serial/")}) >= 2  # really shared


def test_a_cron_tick_fires_once_with_three_workers(project: Project, pg_server):
    project.add("pg_cron.py")
    cluster = Workers(project, pg_server.new_database())
    try:
        cluster.start(3)
        cluster.wait_finished(4, timeout=30, function="ticker")
        assert cluster.stop_all() == [0, 0, 0]
        ticks = [run.event["data"]["scheduled_at"] for run in cluster.runs("ticker")]
        assert len(ticks) == len(set(ticks)), sorted(ticks)  # no tick made two runs
        assert all(tick % 1000 == 0 for tick in ticks)
    finally:
        cluster.close()


def test_a_database_restart_mid_work_strands_nothing(workers: Workers, pg_server):
    started = workers.start(3, "--concurrency", "4")
    for n in range(60):
        workers.send("pg/five", {"n": n, "pause": 0.01})
    workers.wait_calls(lambda c: len(c) >= 60, "work under way")
    pg_server.restart("immediate")
    workers.wait_finished(60, timeout=120)
    exited = [(w.proc.returncode, w.stderr) for w in started if w.proc.poll() is not None]
    assert not exited, "\n\n".join(f"exit {code}:\n{err}" for code, err in exited)
    for run in workers.runs():
        n = run.event["data"]["n"]
        assert [s.output for s in workers.store.load_steps(run.id)] == run.output
        assert run.output == [n * 10 + i for i in range(5)]
    ran = _keys(workers.calls(), "five/")
    assert set(ran) == {f"five/{n}/{i}" for n in range(60) for i in range(5)}
    # a step in flight when the database went away may run again; none that was journaled,
    # and at most one per run in flight (3 workers x 4)
    assert sum(count - 1 for count in ran.values()) <= 12, ran
    # and they are live workers again: each renewed (or re-registered) its lease
    assert workers.live() == 3 or elapsed_until(lambda: workers.live() == 3, 20, "3 live")


def test_sigterm_stops_a_worker_and_gives_its_runs_up_at_once(workers: Workers):
    (first,) = workers.start(1)
    workers.send("pg/block", {"n": 0})
    workers.wait_calls(lambda c: any(k == "block/0/hold" for k, _ in c), "the run holding")
    first.proc.send_signal(signal.SIGTERM)
    assert first.wait(20) == 0
    assert workers.live() == 0
    # its run is anyone's now, without waiting for a lease to run out
    (run,) = workers.runs()
    assert run.status == "running"
    (workers.project.root / "release").touch()
    workers.start(1)
    workers.wait_finished(1, timeout=30)
    assert _keys(workers.calls(), "block/0/before") == Counter({"block/0/before": 1})


def test_a_worker_on_a_state_dir_is_the_single_runner(project: Project):
    project.add("pg_flows.py")
    first = project.start("worker")
    wait_until(lambda: "durable worker:" in first.stderr, what="the first worker's banner")
    second = project.cli("worker")
    assert second.returncode == 2
    assert f"process {first.proc.pid}" in second.stderr and "Traceback" not in second.stderr
    assert first.stop(signal.SIGTERM) == 0


def test_an_unreachable_database_is_one_line_and_a_nonzero_exit(project: Project):
    project.add("pg_flows.py")
    port = _closed_port()
    url = f"postgresql://durable@127.0.0.1:{port}/durable"
    for args in (["worker"], ["send", "pg/five"], ["runs"], ["show", "01ABC"]):
        done = project.cli(*args, "--database-url", url)
        assert done.returncode != 0, args
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, (args, done.stderr)
        assert f"can't reach PostgreSQL at 127.0.0.1:{port}/durable:" in lines[0], lines
    # the doctor reports it as its finding, on stdout, and exits 1 as for anything broken
    doctor = project.cli("doctor", "--database-url", url)
    assert doctor.returncode == 1 and doctor.stderr == ""
    assert f"FAIL  connection: can't reach PostgreSQL at 127.0.0.1:{port}/durable" in doctor.stdout


def test_a_newer_schema_is_refused_and_left_as_it_was(project: Project, pg_server):
    project.add("pg_flows.py")
    url = pg_server.new_database()
    newer = """UPDATE durable.meta SET value = '{"version": 99}' WHERE key = 'schema'"""
    pg_server.execute(newer, url.rsplit("/", 1)[1])
    for args in (["worker"], ["send", "pg/five"], ["runs"]):
        done = project.cli(*args, "--database-url", url)
        assert done.returncode == 2, (args, done.stderr)
        assert "version 99" in done.stderr and "Traceback" not in done.stderr
    doctor = project.cli("doctor", "--database-url", url)
    assert doctor.returncode == 1 and "version 99" in doctor.stdout
    import psycopg

    with psycopg.connect(url) as con:
        (value,) = con.execute("SELECT value FROM durable.meta WHERE key = 'schema'").fetchone()
    assert value == {"version": 99}


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed
