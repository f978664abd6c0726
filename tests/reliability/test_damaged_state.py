"""A damaged or foreign state dir: the real `durable` exits 2 naming it, fast, and changes nothing.

Each case damages a real journal one way, then runs `durable runs`, `durable send` and
`durable dev` on it: each must exit 2 within 10 s with one line on stderr that names the state
dir (no traceback), and leave every file byte for byte as it was (no silent re-initialisation;
for SQLite's -shm index, see `fingerprint`). Page damage is tried at the start of the file, in
its middle and at its end, in a journal small enough to be checked whole when it is opened
(`test_damaged_large_journal.py`: a larger one); WAL damage after a runner was killed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from state_support import (
    FLOW,
    build_state,
    crash_after_writes,
    durable_cmd,
    fingerprint,
    garble,
    grow_state,
    journal_rows,
    value_files,
)

from durable_cli.store import diagnose

DB = "cache.db"
COMMANDS = {
    "runs": ("runs", "--json"),
    "send": ("send", "big/go", "--data", '{"n": 2}'),
    "dev": ("dev", "--headless", "--until-idle", "--idle-wait", "0", "--no-watch", str(FLOW)),
}


PAGE = 4096


def truncated_to_whole_pages(state: Path) -> Path:
    os.truncate(state / DB, 2 * 4096)
    return state


def truncated_mid_page(state: Path) -> Path:
    os.truncate(state / DB, (state / DB).stat().st_size - 1000)
    return state


def garbled_header(state: Path) -> Path:
    garble(state / DB, 0, 100)
    return state


def garbled_first_pages(state: Path) -> Path:
    garble(state / DB, 8192, PAGE)  # page 3: diskcache's Settings table, which `send` never read
    return state


def garbled_pointer_map(state: Path) -> Path:
    garble(state / DB, PAGE, PAGE)  # page 2: every page's kind and parent; read only to move one
    return state


def garbled_middle_page(state: Path) -> Path:  # in the grown journal: a leaf of a deep table
    pages = (state / DB).stat().st_size // PAGE
    garble(state / DB, pages // 2 * PAGE, PAGE)
    return state


def garbled_last_page(state: Path) -> Path:  # in the grown journal
    garble(state / DB, (state / DB).stat().st_size - PAGE, PAGE)
    return state


def garbled_key_index(state: Path) -> Path:
    con = sqlite3.connect(state / DB)
    (root,) = con.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'Cache_key_raw'"
    ).fetchone()
    con.close()
    garble(state / DB, (root - 1) * PAGE, PAGE)
    return state


def empty_database_file(state: Path) -> Path:
    (state / DB).write_bytes(b"")
    return state


def journal_deleted(state: Path) -> Path:
    (state / DB).unlink()  # the value files stay: starting afresh would orphan them silently
    return state


def wal_lost_after_a_crash(state: Path) -> Path:
    crash_after_writes(state)
    (state / f"{DB}-wal").unlink()  # its commits are not in cache.db yet
    return state


WAL = f"{DB}-wal"
FRAME = 24 + PAGE  # a WAL frame: its header, then the page


def wal_header_garbled_after_a_crash(state: Path) -> Path:
    crash_after_writes(state)
    garble(state / WAL, 0, 32)  # SQLite would read the whole log as empty: every commit gone
    return state


def wal_frame_garbled_after_a_crash(state: Path) -> Path:
    crash_after_writes(state)
    garble(state / WAL, 32 + 2 * FRAME + 100, PAGE)  # replay would stop at the fourth frame
    return state


def wal_last_page_garbled_after_a_crash(state: Path) -> Path:
    crash_after_writes(state)
    garble(state / WAL, (state / WAL).stat().st_size - PAGE, PAGE)  # its page, not its header
    return state


def wal_truncated_after_a_crash(state: Path) -> Path:
    crash_after_writes(state)
    os.truncate(state / WAL, (state / WAL).stat().st_size - 1000)
    return state


def page_garbled_beside_a_wal(state: Path) -> Path:
    crash_after_writes(state)  # SQLite replays the WAL first: the index is rebuilt
    garble(state / DB, 8192, PAGE)  # a page the WAL has no newer copy of
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
        garbled_first_pages,
        garbled_pointer_map,
        garbled_middle_page,
        garbled_last_page,
        garbled_key_index,
        empty_database_file,
        journal_deleted,
        wal_lost_after_a_crash,
        wal_header_garbled_after_a_crash,
        wal_frame_garbled_after_a_crash,
        wal_last_page_garbled_after_a_crash,
        wal_truncated_after_a_crash,
        page_garbled_beside_a_wal,
        state_path_is_a_file,
        unknown_schema_version,
        group_writable_dir,
        owned_by_another_user,
        foreign_folder,
    )
}


# damaged in a journal with deeper tables (its middle and last pages are leaves among many)
GROWN = {"garbled_middle_page", "garbled_last_page"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One healthy journal, copied for each case."""
    state = tmp_path_factory.mktemp("pristine") / "state"
    build_state(state)
    return state


@pytest.fixture(scope="module")
def grown(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The healthy journal with a few hundred more events: ~100 pages, still checked whole."""
    state = _copy(pristine, tmp_path_factory.mktemp("grown") / "state")
    grow_state(state, events=300, size=1000)
    return state


def _copy(src: Path, dst: Path) -> Path:
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
    return dst


@pytest.mark.parametrize("damage", list(CASES))
def test_damaged_state_dir_exits_2_naming_it_and_stays_untouched(
    damage: str, request: pytest.FixtureRequest, tmp_path: Path
):
    source = request.getfixturevalue("grown" if damage in GROWN else "pristine")
    state = CASES[damage](_copy(source, tmp_path / "state"))
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
    worst = [f for f in diagnose(str(state)) if f.level == "error"]
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
    (finding,) = [f for f in diagnose(str(state)) if f.code == "value-file-missing"]
    assert f"st/{run_id}/000000" in finding.message


def test_missing_value_file_of_a_queued_event_stops_the_runner_not_the_event(
    pristine: Path, tmp_path: Path
):
    state = _copy(pristine, tmp_path / "state")
    event_file = next(f for f in value_files(state) if b"y" * 1000 in f.read_bytes())
    event_file.unlink()
    # the runner may note its own lease in the database before it meets the missing file;
    # every row of the journal and every value file stays as it was
    files = {
        k: v
        for k, v in fingerprint(state).items()
        if not k.startswith(("cache.db", "runner.lock", "wake"))
    }
    journal = journal_rows(state)
    got = durable_cmd(*COMMANDS["dev"], state=state, cwd=tmp_path)
    assert got.code == 2, got.err
    assert event_file.name in got.err and "Traceback" not in got.err
    after = {
        k: v
        for k, v in fingerprint(state).items()
        if not k.startswith(("cache.db", "runner.lock", "wake"))
    }
    assert after == files
    assert journal_rows(state) == journal  # the event was not dropped from the queue
    assert any(f.code == "value-file-missing" for f in diagnose(str(state)))


def test_missing_shm_after_a_crash_is_recovered_not_refused(pristine: Path, tmp_path: Path):
    state = _copy(pristine, tmp_path / "state")
    crash_after_writes(state)
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
