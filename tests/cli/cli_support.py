"""What the CLI tests drive: a project folder, the real `durable` command, runner processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import wait_until

WORKFLOWS = Path(__file__).with_name("workflows")
REPO = Path(__file__).resolve().parents[2]
DURABLE = Path(sys.executable).with_name("durable")


class Runner:
    """A `durable dev` process whose output is read line by line in the background."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [str(DURABLE), *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _pump(stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def wait_for_line(self, predicate: Callable[[str], bool], timeout: float = 15.0) -> str:
        """The first stdout line matching `predicate` (waiting for it)."""

        def found() -> str | None:
            return next((line for line in list(self.out) if predicate(line)), None)

        return wait_until(found, timeout, what=f"a log line; got {self.out[-5:]} {self.err}")

    def wait(self, timeout: float = 20.0) -> int:
        """Wait for the process to end; its exit code."""
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        """Send `sig` and wait for the exit code."""
        self.proc.send_signal(sig)
        return self.wait(timeout)

    @property
    def stderr(self) -> str:
        """Everything written to stderr so far."""
        return "\n".join(self.err)


class Project:
    """A folder with workflow files, a pyproject.toml and a state dir, and `durable` to run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / "state"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
        self.env["DURABLE_STATE_DIR"] = str(self.state)
        self.runners: list[Runner] = []

    def add(self, *names: str, configure: bool = True) -> None:
        """Copy workflow files (and their call counter) in; list them in pyproject.toml."""
        for name in ("calls.py", *names):
            shutil.copy(WORKFLOWS / name, self.root / name)
        if configure:
            self.configure(*names)

    def configure(self, *paths: str) -> None:
        """List workflow files (or folders) in pyproject.toml, as its only paths."""
        listed = ", ".join(f'"{p}"' for p in paths)
        (self.root / "pyproject.toml").write_text(f"[tool.durable]\npaths = [{listed}]\n")

    def write_workflow(self, name: str, source: str) -> None:
        """Write a workflow file `name` holding `source`; list it as pyproject.toml's only one."""
        (self.root / name).write_text(source)
        self.configure(name)

    def cli(self, *args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess:
        """Run `durable ARGS` to its end."""
        return subprocess.run(
            [str(DURABLE), *args],
            cwd=self.root,
            env={**self.env, **env},
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def ok(self, *args: str, **env: str) -> str:
        """Run `durable ARGS`, insist on exit 0, return stdout stripped."""
        done = self.cli(*args, **env)
        assert done.returncode == 0, (args, done.returncode, done.stderr)
        return done.stdout.strip()

    def send(self, name: str, data: dict[str, Any] | None = None) -> str:
        """`durable send NAME [--data JSON]`; the event id."""
        extra = ["--data", json.dumps(data)] if data is not None else []
        return self.ok("send", name, *extra)

    def json(self, *args: str) -> Any:
        """Run `durable ARGS --json` and parse stdout."""
        return json.loads(self.ok(*args, "--json"))

    def start(self, *args: str, **env: str) -> Runner:
        """Start `durable ARGS` in the background (killed at teardown)."""
        runner = Runner(list(args), self.root, {**self.env, **env})
        self.runners.append(runner)
        return runner

    def dev(self, *args: str, **env: str) -> Runner:
        """Start `durable dev --headless ARGS` in the background (killed at teardown)."""
        return self.start("dev", "--headless", *args, **env)

    def run_until_idle(self, *args: str, **env: str) -> Runner:
        """Run `durable dev --headless --until-idle --no-watch ARGS` to its end (exit 0)."""
        runner = self.dev("--until-idle", "--idle-wait", "0.2", "--no-watch", *args, **env)
        code = runner.wait(60)
        assert code == 0, (code, runner.stderr)
        return runner

    def kill_runners(self) -> None:
        """Kill every runner this project started that is still running (at teardown)."""
        for runner in self.runners:
            if runner.proc.poll() is None:
                runner.proc.kill()
                runner.proc.wait(10)

    def calls(self, name: str) -> int:
        """How many times a test workflow's step really ran."""
        path = self.root / "calls" / f"{name}.log"
        return len(path.read_text().splitlines()) if path.exists() else 0


def state_snapshot(state: Path) -> Any:
    """What a state dir holds, for "nothing was written" checks: files and journal rows."""
    if not state.exists():
        return None
    files = sorted(
        str(p.relative_to(state))
        for p in state.rglob("*")
        if not p.name.endswith(("-wal", "-shm"))  # SQLite's own, come and go with connections
    )
    db = state / "cache.db"
    rows: list[Any] = []
    if db.exists():
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT key, value, filename FROM Cache ORDER BY key").fetchall()
        finally:
            con.close()
    return files, rows


def state_bytes(state: Path) -> dict[str, bytes]:
    """Every file's bytes under a state dir (for "left untouched" checks)."""
    return {str(p.relative_to(state)): p.read_bytes() for p in state.rglob("*") if p.is_file()}
