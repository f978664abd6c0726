"""A local tool's security: owner-only files whatever the umask, JSON only, no listening socket.

(Refusing a group/world-writable state dir or another user's is in test_damaged_state.py.)
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import stat
import subprocess
from pathlib import Path

from helpers import wait_until
from state_support import DURABLE, FLOW, build_state, durable_cmd

_LISTEN_TCP = "0A"
_UNIX_ACCEPTING = 0x10000  # __SO_ACCEPTCON: a listening unix socket


def _runner(state: Path, cwd: Path, umask: int | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
    return subprocess.Popen(
        [str(DURABLE), "dev", "--headless", "--state-dir", str(state), str(FLOW)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        umask=-1 if umask is None else umask,
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(20)


def test_everything_in_the_state_dir_is_owner_only_under_umask_000(tmp_path: Path):
    state = tmp_path / "state"
    big = '{"pad": "' + "p" * 100_000 + '"}'  # a value file, in a value folder
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_")}
    sent = subprocess.run(
        [str(DURABLE), "send", "big/go", "--data", big, "--state-dir", str(state)],
        env=env,
        capture_output=True,
        text=True,
        umask=0,
        timeout=30,
    )
    assert sent.returncode == 0, sent.stderr
    runner = _runner(state, tmp_path, umask=0)
    try:
        # the run's step output (100 KB) is written by the runner: a second value file
        wait_until(
            lambda: sum(p.suffix == ".val" for p in _entries(state)) >= 2,
            what="the step's value file",
        )
        wait_until(lambda: (state / "cache.db-wal").exists(), what="the runner's WAL")
        entries = _entries(state)
        kinds = {p.name for p in entries}
        assert {"cache.db", "cache.db-wal", "cache.db-shm", "runner.lock", "wake"} <= kinds
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        modes = {str(p.relative_to(state)): _mode(p) for p in entries}
        loose = [(name, oct(mode)) for name, mode in modes.items() if mode and mode & 0o077]
        assert loose == []
    finally:
        _stop(runner)


def _entries(state: Path) -> list[Path]:
    """Everything under `state`. Not `rglob`, which raises when a value folder the runner
    empties (a run record rewritten) goes while it lists; `os.walk` passes over it."""
    found = []
    for root, dirs, files in os.walk(state):
        found += [Path(root, name) for name in dirs + files]
    return found


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.lstat().st_mode)
    except FileNotFoundError:  # a replaced value file (and its emptied folder) went meanwhile
        return None


def _plant(state: Path, key: str, tag: str | None = None) -> Path:
    """A pickled row whose loading would create a file."""
    proof = state.parent / f"pwned-{key.replace('/', '-')}"

    class Boom:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, (f"touch {proof}",))

    con = sqlite3.connect(state / "cache.db")
    con.execute(
        "INSERT INTO Cache(key, raw, store_time, expire_time, access_time, access_count, tag,"
        " size, mode, filename, value) VALUES (?, 1, 0, NULL, 0, 0, ?, 0, 4, NULL, ?)",
        (key, tag, pickle.dumps(Boom())),
    )
    con.commit()
    con.close()
    return proof


def test_a_planted_pickle_is_refused_by_every_command_and_never_loaded(tmp_path: Path):
    state = tmp_path / "state"
    build_state(state)
    proofs = [
        _plant(state, "run/01ZZZZZZZZZZZZZZZZZZZZEVIL", tag="queued"),
        _plant(state, "ev/evil"),
        _plant(state, "q/0000000000000/evil"),
    ]
    for args in (
        ("runs",),
        ("show", "01ZZZZZZZZZZZZZZZZZZZZEVIL"),
        ("dev", "--headless", "--until-idle", "--idle-wait", "0", "--no-watch", str(FLOW)),
    ):
        got = durable_cmd(*args, state=state, cwd=tmp_path)
        assert got.code == 2, (args, got.code, got.err)
        assert "pickled" in got.err and "Traceback" not in got.err, (args, got.err)
    assert [p for p in proofs if p.exists()] == []


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def _listening(inodes: set[str]) -> list[str]:
    hits = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        path = Path(f"/proc/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            state, inode = cols[3], cols[9]
            if inode in inodes and (table.startswith("udp") or state == _LISTEN_TCP):
                hits.append(f"{table}: {line.strip()}")
    unix = Path("/proc/net/unix")
    if unix.exists():
        for line in unix.read_text().splitlines()[1:]:
            cols = line.split()
            if cols[6] in inodes and int(cols[3], 16) & _UNIX_ACCEPTING:
                hits.append(f"unix: {line.strip()}")
    return hits


def test_the_runner_listens_on_no_socket(tmp_path: Path):
    if not Path("/proc/self/fd").exists():
        import pytest

        pytest.skip("needs /proc to list the runner's sockets")
    state = tmp_path / "state"
    runner = _runner(state, tmp_path)  # watching for changes, as `durable dev` does by default
    try:
        wait_until(lambda: (state / "runner.lock").exists(), what="the runner taking its lock")
        sent = durable_cmd("send", "big/go", state=state, cwd=tmp_path)
        assert sent.code == 0, sent.err
        wait_until(
            lambda: '"completed"' in durable_cmd("runs", "--json", state=state, cwd=tmp_path).out,
            what="the run completing",
        )
        inodes = _socket_inodes(runner.pid)
        assert inodes, "expected asyncio's self-pipe socketpair at least"
        assert _listening(inodes) == []
    finally:
        _stop(runner)
