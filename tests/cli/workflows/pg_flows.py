"""Workflows for the many-workers tests: every real call of a step is one line in calls/pg.log
(`key<TAB>pid`), so a test can tell which worker ran what, and whether anything ran twice."""

from __future__ import annotations

import os
import time
from pathlib import Path

import durable_cli as durable

LOG = Path(__file__).with_name("calls") / "pg.log"
RELEASE = Path(__file__).with_name("release")  # `hold` steps wait until this file exists
LOCK = Path(__file__).with_name("serial.lock")  # held by the one `serial` step running


def record(key: str) -> None:
    """One line per real call (an append under 4 KiB is atomic: workers never interleave)."""
    LOG.parent.mkdir(exist_ok=True)
    with open(LOG, "a") as fh:
        fh.write(f"{key}\t{os.getpid()}\n")


def _step(key: str, value: int, pause_s: float = 0.0) -> int:
    record(key)
    if pause_s:
        time.sleep(pause_s)
    return value


@durable.function(id="five", trigger="pg/five")
def five(event, step):
    n = event.data["n"]
    pause = event.data.get("pause", 0.0)
    return [step.run(f"s{i}", _step, f"five/{n}/{i}", n * 10 + i, pause) for i in range(5)]


def _hold(key: str) -> str:
    record(key)
    while not RELEASE.exists():
        time.sleep(0.02)
    return "held"


@durable.function(id="block", trigger="pg/block")
def block(event, step):
    n = event.data["n"]
    step.run("before", _step, f"block/{n}/before", n)
    step.run("hold", _hold, f"block/{n}/hold")
    return step.run("after", _step, f"block/{n}/after", n)


@durable.function(id="nap", trigger="pg/nap")
def nap(event, step):
    n = event.data["n"]
    step.run("a", _step, f"nap/{n}/a", n)
    step.sleep("nap", 1.0)
    return step.run("b", _step, f"nap/{n}/b", n)


def _alone(key: str) -> int:
    record(key)
    try:
        fd = os.open(LOCK, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        record("overlap")  # another run of the key held it: the limit did not hold
        return 0
    try:
        time.sleep(0.03)
    finally:
        os.close(fd)
        LOCK.unlink()
    return 1


@durable.function(id="serial", trigger="pg/serial", concurrency=1)
def serial(event, step):
    n = event.data["n"]
    return [step.run(f"h{i}", _alone, f"serial/{n}/{i}") for i in range(2)]
