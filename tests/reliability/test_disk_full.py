"""A full disk (a real 4 MB tmpfs): nothing half-written; all completes once space returns.

Needs root to mount the tmpfs; skipped (with the reason) where that is not allowed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import lines_of, wait_until

from durable_cli.store import diagnose

DURABLE = Path(sys.executable).with_name("durable")
FLOW = Path(__file__).with_name("workflows") / "disk_flow.py"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs mounted under tmp_path."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"can't mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path: Path) -> None:
    chunk = b"\0" * 65536
    with open(path, "wb") as fh:
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError:
            pass
    assert os.statvfs(path.parent).f_bavail == 0


def test_full_disk_rejects_sends_whole_and_runs_complete_once_space_returns(
    small_disk: Path, tmp_path: Path
):
    state = small_disk / "state"
    effects, gate = tmp_path / "effects.log", tmp_path / "gate"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
    env.update(DURABLE_STATE_DIR=str(state), EFFECTS=str(effects), GATE=str(gate))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DURABLE), *args], env=env, capture_output=True, text=True, timeout=30
        )

    first = cli("send", "disk/go", "--data", '{"n": 1}')
    assert first.returncode == 0, first.stderr
    runner = subprocess.Popen(
        [str(DURABLE), "dev", "--headless", "--no-watch", str(FLOW)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log = lines_of(runner.stdout)  # type: ignore[arg-type]
    try:
        wait_until(
            lambda: effects.exists() and "big 1" in effects.read_text(),
            timeout=60,
            what="step big",
        )
        _fill(small_disk / "filler")

        big = json.dumps({"n": 9, "pad": "p" * 70_000})
        rejected = cli("send", "disk/go", "--data", big, "--id", "too-big")
        assert rejected.returncode == 2
        assert rejected.stderr.count("\n") == 1 and "disk full" in rejected.stderr
        assert "Traceback" not in rejected.stderr

        gate.touch()  # the step returns 100 KB: its journal write fails
        wait_until(
            lambda: any("disk full" in line for line in list(log)),
            timeout=60,
            what="the runner reporting the failed journal write",
        )
        (small_disk / "filler").unlink()  # space returns

        def runs() -> list[dict]:
            shown = cli("runs", "--json")  # a refusal (the journal busy): asked again
            return json.loads(shown.stdout) if shown.returncode == 0 else []

        def completed() -> dict | None:
            listed = runs()
            return listed[0] if listed and listed[0]["status"] == "completed" else None

        run = wait_until(completed, timeout=60, what="the run completing after space returned")
        later = cli("send", "disk/go", "--data", '{"n": 2}')
        assert later.returncode == 0, later.stderr
        wait_until(
            lambda: effects.read_text().count("big 2") == 1,
            timeout=60,
            what="a run after recovery",
        )
        wait_until(
            lambda: [r["status"] for r in runs()] == ["completed", "completed"],
            timeout=60,
            what="both runs completed",
        )
    finally:
        runner.terminate()
        runner.wait(20)
    detail = json.loads(cli("show", run["id"], "--json").stdout)
    assert detail["output"] == 100_001
    assert [(s["id"], s["status"]) for s in detail["steps"]] == [
        ("small", "completed"),
        ("big", "completed"),
    ]
    # the step whose result could not be journaled ran again: at least once, never lost
    assert effects.read_text().splitlines().count("big 1") == 2
    events = [r["event"]["id"] for r in json.loads(cli("runs", "--json").stdout)]
    assert "too-big" not in events  # the rejected send left no event behind
    codes = {f.code for f in diagnose(str(state)) if f.level in ("warning", "error")}
    assert codes == set(), codes  # no orphan value file, nothing damaged
