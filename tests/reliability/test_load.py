"""Senders in several processes at once, into a brand-new state dir, while a runner works."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from load_support import run_load

from durable_cli.store import open_store


def test_two_processes_times_200_sends_all_run_once_with_no_lock_errors(tmp_path: Path):
    report = run_load(tmp_path, processes=2, sends=200, cli_every=10, timeout=120)
    summary = "\n".join(report.lines() + report.errors[:5])
    assert report.errors == [], summary
    assert len(report.sent) == 400, summary
    assert len(report.cli_s) == 40, summary  # both paths really ran
    assert (report.runs, report.completed) == (400, 400), summary
    assert (report.lost, report.duplicated) == (0, 0), summary


OPENER = textwrap.dedent(
    """
    import os, sys, time
    from concurrent.futures import ThreadPoolExecutor
    import durable_cli

    worker, state, start = sys.argv[1:4]
    while not os.path.exists(start):
        time.sleep(0.001)  # everyone opens the brand-new state dir together

    def one(i):
        return durable_cli.send("cold/start", {"i": i}, state_dir=state, id=f"{worker}-{i}")

    with ThreadPoolExecutor(10) as pool:
        print(" ".join(pool.map(one, range(10))))
    """
)


def test_many_senders_racing_to_create_a_state_dir_all_land(tmp_path: Path):
    state, start = tmp_path / "state", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, f"p{w}", str(state), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    start.touch()
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 8, [err for _, err in results]
    assert all(not err for _, err in results), [err for _, err in results]
    sent = {eid for out, _ in results for eid in out.split()}
    assert len(sent) == 80
    store = open_store(str(state), create=False)
    try:
        assert store.queued_count() == 80
        assert all(store.get_event(eid) is not None for eid in sent)
    finally:
        store.close()
    leftovers = [p.name for p in state.iterdir() if p.name.startswith(".init-")]
    assert leftovers == []  # the losers of the creation race cleaned up after themselves
