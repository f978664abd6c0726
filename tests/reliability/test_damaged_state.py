"""A damaged or foreign state dir: the real `durable` exits 2 naming it, fast, and changes nothing.

Each case damages a real journal one way, then runs `durable runs`, `durable send` and
`durable dev` on it: each must exit 2 within 10 s with one line on stderr that names the state
dir (no traceback), and leave every file byte for byte as it was (no silent re-initialisation).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from state_support import FLOW, build_state, durable_cmd, fingerprint, value_files

from durable_cli.engine._doctor import doctor

DB = "cache.db"
COMMANDS = {
    "runs": ("runs", "--json"),
    "send": ("send", "big/go", "--data", '{"n": 2}'),
    "dev": ("dev", "--headless", "--until-idle", "--idle-wait", "0", "--no-watch", str(FLOW)),
}


def _garble(path: Path, offset: int, size: int) -> None:
    noise = random.Random(offset).randbytes(size)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(noise)


def truncated_to_whole_pages(state: Path) -> Path:
    os.truncate(state / DB, 2 * 4096)
    return state


def truncated_mid_page(state: Path) -> Path:
    os.truncate(state / DB, (state / DB).stat().st_size - 1000)
    return state


def garbled_header(state: Path) -> Path:
    _garble(state / DB, 0, 100)
    return state


def garbled_key_index(state: Path) -> Path:
    con = sqlite3.connect(state / DB)
    (root,) = con.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'Cache_key_raw'"
    ).fetchone()
    con.close()
    _garble(state / DB, (root - 1) * 4096, 4096)
    return state


def empty_database_file(state: Path) -> Path:
    (state / DB).write_bytes(b"")
    return state


def journal_deleted(state: Path) -> Path:
    (state / DB).unlink()  # the value files stay: starting afresh would orphan them silently
    return state


_CRASH = (
    "import os, signal, sys\n"
    "from durable_cli.store import open_store\n"
    "s = open_store(sys.argv[1])\n"
    "for i in range(5):\n"
    "    s.put_event({'id': f'late-{i}', 'name': 'big/go', 'data': {}, 'ts': i})\n"
    "os.kill(os.getpid(), signal.SIGKILL)\n"
)


def _crash_after_writes(state: Path) -> None:
    """Five events committed to the WAL, then kill -9: the WAL and its index stay behind."""
    done = subprocess.run([sys.executable, "-c", _CRASH, str(state)], timeout=30)
    assert done.returncode == -signal.SIGKILL
    assert (state / f"{DB}-wal").exists() and (state / f"{DB}-shm").exists()


def wal_lost_after_a_crash(state: Path) -> Path:
    _crash_after_writes(state)
    (state / f"{DB}-wal").unlink()  # its commits are not in cache.db yet
    return state


def state_path_is_a_file(state: Path) -> Path:
    target = state.with_name("a-file")
    target.write_text("not a state dir\n")
    return target


def unknown_schema_version(state: Path) -> Path:
    con = sqlite3.connect(state / DB)
    con.execute("UPDATE Cache SET value = ? WHERE key = 'meta/schema'", (b'{"version":99}',))
    con.commit()
    con.close()
    return state


def group_writable_dir(state: Path) -> Path:
    state.chmod(0o770)
    return state


def owned_by_another_user(state: Path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the state dir to another user")
    os.chown(state, 65534, 65534)
    return state


def foreign_folder(state: Path) -> Path:
    target = state.with_name("project")
    target.mkdir(mode=0o700)
    (target / "notes.txt").write_text("someone's files\n")
    return target


CASES: dict[str, Callable[[Path], Path]] = {
    f.__name__: f
    for f in (
        truncated_to_whole_pages,
        truncated_mid_page,
        garbled_header,
        garbled_key_index,
        empty_database_file,
        journal_deleted,
        wal_lost_after_a_crash,
        state_path_is_a_file,
        unknown_schema_version,
        group_writable_dir,
        owned_by_another_user,
        foreign_folder,
    )
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One healthy journal, copied for each case."""
    state = tmp_path_factory.mktemp("pristine") / "state"
    build_state(state)
    return state


def _copy(src: Path, dst: Path) -> Path:
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
    return dst


@pytest.mark.parametrize("damage", list(CASES))
def test_damaged_state_dir_exits_2_naming_it_and_stays_untouched(
    damage: str, pristine: Path, tmp_path: Path
):
    state = CASES[damage](_copy(pristine, tmp_path / "state"))
    before = fingerprint(state)
    for name, args in COMMANDS.items():
        got = durable_cmd(*args, state=state, cwd=tmp_path)
        assert got.code == 2, (name, got.code, got.out, got.err)
        assert got.seconds < 10, (name, got.seconds)
        lines = got.err.strip().splitlines()
        if name == "dev" and lines and lines[0].startswith("durable dev:"):
            lines = lines[1:]  # the banner: the damage was found after the runner started
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, got.err)
        assert str(state) in lines[0], (name, lines[0])
        assert "Traceback" not in got.err
        assert fingerprint(state) == before, (name, "the state dir changed")
    worst = [f for f in doctor(str(state)) if f.level == "error"]
    assert worst, f"doctor found nothing wrong with {damage}"


def test_missing_value_file_fails_the_read_that_needs_it(pristine: Path, tmp_path: Path):
    state = _copy(pristine, tmp_path / "state")
    run_id = durable_cmd("runs", "--json", state=state, cwd=tmp_path).out.split('"id": "')[1][:26]
    blob = next(f for f in value_files(state) if b"x" * 1000 in f.read_bytes())
    blob.unlink()
    before = fingerprint(state)
    listed = durable_cmd("runs", state=state, cwd=tmp_path)
    assert listed.code == 0, listed.err  # the run row itself is intact
    shown = durable_cmd("show", run_id, state=state, cwd=tmp_path)
    assert shown.code == 2 and shown.err.count("\n") == 1, shown.err
    assert str(state) in shown.err and blob.name in shown.err and "missing" in shown.err
    assert fingerprint(state) == before
    (finding,) = [f for f in doctor(str(state)) if f.code == "value-file-missing"]
    assert f"st/{run_id}/000000" in finding.message


def test_missing_value_file_of_a_queued_event_stops_the_runner_not_the_event(
    pristine: Path, tmp_path: Path
):
    state = _copy(pristine, tmp_path / "state")
    event_file = next(f for f in value_files(state) if b"y" * 1000 in f.read_bytes())
    event_file.unlink()
    journal = {k: v for k, v in fingerprint(state).items() if k not in ("runner.lock", "wake")}
    got = durable_cmd(*COMMANDS["dev"], state=state, cwd=tmp_path)
    assert got.code == 2, got.err
    assert event_file.name in got.err and "Traceback" not in got.err
    after = {k: v for k, v in fingerprint(state).items() if k not in ("runner.lock", "wake")}
    assert after == journal  # the event was not dropped from the queue: it is still there
    assert any(f.code == "value-file-missing" for f in doctor(str(state)))


def test_missing_shm_after_a_crash_is_recovered_not_refused(pristine: Path, tmp_path: Path):
    state = _copy(pristine, tmp_path / "state")
    _crash_after_writes(state)
    (state / f"{DB}-shm").unlink()  # SQLite rebuilds its index from the WAL: nothing lost
    sent = durable_cmd("send", "big/go", "--id", "after", state=state, cwd=tmp_path)
    assert sent.code == 0, sent.err
    from durable_cli.store import open_store

    store = open_store(str(state), create=False)
    try:
        assert store.queued_count() == 7  # queued-1, five late-*, after
    finally:
        store.close()


def test_readers_racing_each_other_leave_no_wal_files_behind(tmp_path: Path):
    """Seven processes read the schema version at once, twenty times: every look is by a
    command that may yet refuse the state dir, so none may leave -wal/-shm files behind (a
    read-write connection deletes its own at close, except when another closes alongside)."""
    from durable_cli.store import open_store

    state = tmp_path / "state"
    open_store(str(state)).close()
    before = fingerprint(state)
    peek = (
        "import sys; from durable_cli.store._files import peek_version;"
        " print(peek_version(sys.argv[1]))"
    )
    for _ in range(20):
        procs = [
            subprocess.Popen([sys.executable, "-c", peek, str(state)], stdout=subprocess.PIPE)
            for _ in range(7)
        ]
        versions = {proc.communicate(timeout=30)[0].strip() for proc in procs}
        assert versions == {b"1"}
        assert fingerprint(state) == before
