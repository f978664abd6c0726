"""Kill -9 in the middle of step 3; a restarted engine does not re-run steps 1-2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from durable_cli.engine import run_detail
from durable_cli.store import open_store

WORKFLOW = textwrap.dedent(
    """
    import os, time
    import durable_cli as durable

    LOG = os.environ["SIDE_EFFECTS"]

    def effect(name):
        with open(LOG, "a") as f:
            f.write(name + "\\n")
            f.flush()
            os.fsync(f.fileno())
        if name == "three" and os.environ.get("HANG_IN_THREE"):
            time.sleep(600)  # the test kills us here
        return name

    @durable.function(id="crashy", trigger="go")
    def crashy(event, step):
        return [step.run(n, effect, n) for n in ("one", "two", "three", "four")]
    """
)

RUNNER = textwrap.dedent(
    """
    import asyncio, sys
    from durable_cli.engine import Engine, load_paths
    from durable_cli.store import open_store
    store = open_store(sys.argv[1])
    store.lock_runner()
    engine = Engine(store, load_paths([sys.argv[2]]))
    if len(sys.argv) > 3:
        engine.send("go", {})
    asyncio.run(engine.serve(until_idle=True, idle_wait=0.5))
    """
)


def _wait_for(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_sigkill_mid_step_resumes_without_rerunning_completed_steps(tmp_path: Path):
    wf, runner, log = tmp_path / "wf.py", tmp_path / "runner.py", tmp_path / "effects.log"
    wf.write_text(WORKFLOW)
    runner.write_text(RUNNER)
    state = str(tmp_path / "state")
    env = {**os.environ, "SIDE_EFFECTS": str(log), "HANG_IN_THREE": "1"}
    first = subprocess.Popen([sys.executable, str(runner), state, str(wf), "send"], env=env)
    try:
        assert _wait_for(lambda: log.exists() and "three" in log.read_text()), "step 3 never began"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    env.pop("HANG_IN_THREE")
    second = subprocess.run(
        [sys.executable, str(runner), state, str(wf)], env=env, timeout=60, capture_output=True
    )
    assert second.returncode == 0, second.stderr.decode()
    assert log.read_text().split() == ["one", "two", "three", "three", "four"]
    store = open_store(state)
    (run,) = store.list_runs()
    detail = run_detail(store, run.id)
    assert detail["status"] == "completed"
    assert detail["output"] == ["one", "two", "three", "four"]
    assert [s["attempts"] for s in detail["steps"]] == [1, 1, 1, 1]
