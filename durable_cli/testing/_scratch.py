"""Throw-away journals for `run_function` and `replay`: a real state dir each, made cheaply.

Creating a journal is most of what a throw-away state dir used to cost per call: diskcache
writes its settings row by row, each a commit (and on a disk, a sync). So a process builds one
blank journal, the usual way, the first time it needs one, and every call gets a byte copy of it
in a folder of its own: the same file format, checks and store code as any state dir, isolated
from every other call (no run, flag or budget of one call is seen by the next). The folders live
in memory (`/dev/shm`) where the system has it, so nothing waits for a disk.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator

from ..store import Store, open_store

__all__ = ["scratch_store"]

_SHM = "/dev/shm"
_lock = threading.Lock()
_root: dict[int, str] = {}  # process id -> this process's scratch folder (a fork makes its own)


@contextlib.contextmanager
def scratch_store(state_dir: str | None = None) -> Iterator[Store]:
    """A store on `state_dir` (kept), or on a fresh copy of a blank journal (removed after)."""
    if state_dir is not None:
        store = open_store(state_dir)
        try:
            yield store
        finally:
            store.close()
        return
    folder = _fresh_copy()
    try:
        store = open_store(folder)
        # a journal that lives for one call needs no thread copying its WAL back while it runs
        # (a runner's busy writers do): SQLite's own checkpoints and the close fold it in
        store.checkpoints.close()
        try:
            yield store
        finally:
            store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fresh_copy() -> str:
    """A new folder holding a copy of this process's blank journal."""
    root = _process_root()
    blank = os.path.join(root, "blank")
    if not os.path.isdir(blank):  # first use (or something cleaned the temp dir): build it
        with _lock:
            if not os.path.isdir(blank):
                _build_blank(blank)
    folder = tempfile.mkdtemp(prefix="run-", dir=root)  # owner-only, as a state dir must be
    for name in os.listdir(blank):
        shutil.copy2(os.path.join(blank, name), os.path.join(folder, name))
    return folder


def _build_blank(blank: str) -> None:
    """Create a journal through the store, then close it (which folds its WAL into the file)."""
    building = tempfile.mkdtemp(prefix="building-", dir=os.path.dirname(blank))
    try:
        open_store(building).close()
        os.rename(building, blank)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def _process_root() -> str:
    pid = os.getpid()
    root = _root.get(pid)
    if root is None or not os.path.isdir(root):
        with _lock:
            root = _root.get(pid)
            if root is None or not os.path.isdir(root):
                root = tempfile.mkdtemp(prefix="durable-test-", dir=_base())
                _root[pid] = root
                atexit.register(_remove, pid, root)
    return root


def _base() -> str | None:
    """Memory-backed temp space when the system offers it, else the usual temp dir."""
    if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK | os.X_OK):
        return _SHM
    return None


def _remove(pid: int, root: str) -> None:
    if os.getpid() == pid:  # a forked child exits with its parent's folder still in use
        shutil.rmtree(root, ignore_errors=True)
