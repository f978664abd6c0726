"""Throw-away journals for `run_function` and `replay`: a blank one for each call, set up once.

Setting a journal up was most of what a call cost, over and over: the state dir's checks, an
SQLite connection per thread (each reads diskcache's settings and sets its pragmas), the
engine's worker threads (each opening a connection of its own) and an event loop. So a process
keeps "benches": each a real state dir in memory (`/dev/shm`, where the system has it) with its
store open, the worker threads the engine runs `def` handlers on, and an event loop. A call
takes a bench no other call is using (calls from several threads take several benches) and
hands it back wiped to the blank journal's rows: the same file format, checks and store code
as any state dir, and no run, event, flag, lease or budget of one call is seen by the next. A
call that did not end cleanly (a timeout, whose handler may still be running in a worker
thread; a Ctrl-C) closes its bench instead of handing it back.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..engine import Engine
from ..store import Store, open_store
from ._blank import Blank

__all__ = ["Bench", "scratch"]

_SHM = "/dev/shm"
_KEEP = 8  # idle benches kept per process: as many as calls that ran at once, up to this
_WORKERS = 16  # the engine's default concurrency: every run it may start gets a thread
_lock = threading.Lock()
_idle: dict[int, list[Bench]] = {}  # process id -> its idle benches (a fork starts with none)
_roots: dict[int, str] = {}  # process id -> the folder its benches' state dirs live in


@dataclass
class Bench:
    """What one `run_function` call runs on: a store, the engine's worker threads, a loop."""

    store: Store
    workers: ThreadPoolExecutor
    loop: asyncio.AbstractEventLoop
    blank: Blank | None = None  # how to wipe the store back (None: a state dir the user keeps)
    engine: Engine | None = None  # the call's engine, closed with the bench or as it is wiped

    def close(self) -> None:
        """Close the call's engine and stop the threads (a step still running finishes in the
        background), then close the rest."""
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.close()
        self.workers.shutdown(wait=False, cancel_futures=True)
        _cancel_tasks(self.loop)
        self.loop.close()
        path = self.store.path
        self.store.close()
        if self.blank is not None:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def scratch(state_dir: str | None = None) -> Iterator[Bench]:
    """A bench on `state_dir` (kept, the bench closed after), or an idle blank one (wiped and
    kept for the next call when the call ends cleanly)."""
    if state_dir is not None:
        bench = _new_bench(open_store(state_dir), None)
        try:
            yield bench
        finally:
            bench.close()
        return
    bench = _take()
    try:
        yield bench
    except BaseException:
        bench.close()
        raise
    _give_back(bench)


def _take() -> Bench:
    pid = os.getpid()
    with _lock:
        idle = _idle.get(pid)
        if idle:
            return idle.pop()
    folder = tempfile.mkdtemp(prefix="run-", dir=_process_root())  # owner-only, as it must be
    try:
        store = open_store(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    # a journal that lives for one call at a time needs no thread copying its WAL back while
    # it runs (a runner's busy writers do): SQLite's own checkpoints and the wipe fold it in
    store.checkpoints.close()
    return _new_bench(store, Blank(store))


def _new_bench(store: Store, blank: Blank | None) -> Bench:
    workers = ThreadPoolExecutor(_WORKERS, thread_name_prefix="durable-step")
    return Bench(store, workers, asyncio.new_event_loop(), blank)


def _give_back(bench: Bench) -> None:
    """Wipe the bench and keep it, or close it (it can't be wiped, a task of the call is still
    on its loop, or enough benches are idle)."""
    engine, bench.engine = bench.engine, None
    try:
        assert bench.blank is not None
        # the engine's lease is given up in the wipe's own commit
        bench.blank.restore(engine.close if engine is not None else None)
    except BaseException:
        bench.close()
        raise
    if asyncio.all_tasks(bench.loop):
        bench.close()
        return
    pid = os.getpid()
    with _lock:
        idle = _idle.setdefault(pid, [])
        if len(idle) < _KEEP:
            idle.append(bench)
            return
    bench.close()


def _process_root() -> str:
    pid = os.getpid()
    with _lock:
        root = _roots.get(pid)
        if root is None or not os.path.isdir(root):
            root = tempfile.mkdtemp(prefix="durable-test-", dir=_base())
            _roots[pid] = root
            atexit.register(_remove, pid, root)
    return root


def _base() -> str | None:
    """Memory-backed temp space when the system offers it, else the usual temp dir."""
    if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK | os.X_OK):
        return _SHM
    return None


def _remove(pid: int, root: str) -> None:
    if os.getpid() != pid:  # a forked child exits with its parent's benches still in use
        return
    with _lock:
        idle = _idle.pop(pid, [])
    for bench in idle:
        with contextlib.suppress(Exception):
            bench.close()
    shutil.rmtree(root, ignore_errors=True)


def _cancel_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left on `loop` and let it unwind, as `asyncio.run` does before closing."""
    if loop.is_closed() or loop.is_running():
        return
    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    with contextlib.suppress(BaseException):
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
