"""Events sent with no runner up, and many senders at once: each event runs exactly once."""

from __future__ import annotations

import subprocess
import sys

from helpers import wait_until


def test_events_sent_before_the_runner_starts_all_run(project):
    project.add("docs.py")
    sent = [project.send("api/document.uploaded", {"n": i}) for i in range(3)]
    assert project.json("runs") == []  # queued, no runs until a runner takes them in

    project.run_until_idle()
    runs = project.json("runs")
    assert sorted(r["event"]["id"] for r in runs) == sorted(sent)
    assert {r["status"] for r in runs} == {"completed"}
    assert project.calls("notify-success") == 3


def test_sending_one_event_id_twice_makes_one_run(project):
    project.add("docs.py")
    first = project.ok("send", "api/document.uploaded", "--id", "order-42")
    again = project.ok("send", "api/document.uploaded", "--id", "order-42")
    assert first == again == "order-42"
    project.run_until_idle()
    assert [r["event"]["id"] for r in project.json("runs")] == ["order-42"]


SENDER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from durable_cli.cli._send import send

worker, state = sys.argv[1], sys.argv[2]
def one(i):
    return send("api/document.uploaded", f'{{"w": {worker}, "i": {i}}}', None, state)
with ThreadPoolExecutor(25) as pool:
    print("\\n".join(pool.map(one, range(25))))
"""


def _send_from_four_processes(state) -> list[str]:
    senders = [
        subprocess.Popen(
            [sys.executable, "-c", SENDER, str(w), str(state)], stdout=subprocess.PIPE, text=True
        )
        for w in range(4)
    ]
    sent = [eid for proc in senders for eid in proc.communicate(timeout=60)[0].split()]
    assert [proc.returncode for proc in senders] == [0] * 4
    assert len(set(sent)) == 100
    return sent


def test_four_processes_times_25_concurrent_sends_make_exactly_100_runs(project):
    project.add("docs.py")
    runner = project.dev("--no-watch")
    wait_until(lambda: "durable dev:" in runner.stderr, what="the runner's banner")
    sent = _send_from_four_processes(project.state)

    wait_until(lambda: project.calls("notify-success") >= 100, timeout=60, what="100 runs")
    runner.stop()
    runs = project.json("runs", "--limit", "1000")
    assert len(runs) == 100
    assert sorted(r["event"]["id"] for r in runs) == sorted(sent)
    assert {r["status"] for r in runs} == {"completed"}
    assert project.calls("notify-success") == 100


def test_concurrent_sends_into_a_fresh_state_dir_all_land(project):
    sent = _send_from_four_processes(project.state)
    assert len(sent) == 100
