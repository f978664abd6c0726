"""`durable dev`: load the workflows, take the runner lock, serve until stopped or idle.

Ctrl-C (SIGINT) and SIGTERM set a stop event: the loop ends between journal writes, so every run
stays resumable. A step still running in a worker thread is abandoned (it runs again on the next
start, as after a crash) rather than waited for.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Coroutine
from contextlib import closing
from typing import Any

from ..errors import InputError
from ._config import workflow_paths
from ._headless import HeadlessLog

__all__ = ["run_dev"]

_THREAD_GRACE_S = 0.3  # how long to let idle worker threads wind down before abandoning busy ones


def run_dev(
    paths: list[str] | None,
    *,
    state_dir: str,
    headless: bool = False,
    until_idle: bool = False,
    idle_wait: float = 2.0,
    watch: bool = True,
    concurrency: int = 16,
    durability: str | None = None,
) -> int:
    """Run the workflows under `paths`; returns the exit code."""
    from ..engine import Engine, load_paths
    from ..store import open_store

    if idle_wait < 0:
        raise InputError("--idle-wait must be 0 or more seconds")
    if concurrency < 1:
        raise InputError("--concurrency must be 1 or more")
    names = workflow_paths(paths)
    registry = load_paths(names)  # before the store opens: a broken file writes nothing
    with closing(open_store(state_dir, durability=durability)) as store:
        store.lock_runner()
        engine = Engine(store, registry, concurrency=concurrency)
        app = _tui() if not headless and sys.stdout.isatty() else None
        log = None
        if app is not None:
            code = app(engine, paths=names, watch=watch)
        else:
            width = max((len(f) for f in registry.functions), default=8)
            log = HeadlessLog(sys.stdout, color=sys.stdout.isatty(), fn_width=width)
            engine.add_listener(log)
            _banner(registry, names, store.path, watch)
            try:
                code = _run_loop(_serve(engine, names, until_idle, idle_wait, watch))
            finally:
                log.flush()
        engine.close()
        busy = _abandon_busy_threads()
        if log is not None:
            log.flush()  # and the lines of steps that ended while threads wound down
        if busy:
            # a worker is still inside a user step: don't wait for it (nor close the store
            # under it); the journal already says that step is in flight
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return code


def _tui() -> Any:
    """The TUI's entry point (textual is imported here and only here)."""
    from ..tui import run_app

    return run_app


def _banner(registry: Any, names: list[str], state: str, watch: bool) -> None:
    fns = ", ".join(sorted(registry.functions)) or "no functions"
    files = len(registry.files)
    how = "watching for changes" if watch else "not watching"
    print(
        f"durable dev: {files} file(s), {fns}; state in {state}; {how}; pid {os.getpid()}",
        file=sys.stderr,
        flush=True,
    )


async def _serve(
    engine: Any, names: list[str], until_idle: bool, idle_wait: float, watch: bool
) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    caught: list[int] = []

    def on_signal(signum: int) -> None:
        if caught:  # a second Ctrl-C: the user does not want to wait for anything
            sys.stdout.flush()
            os._exit(128 + signum)
        caught.append(signum)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    from ..engine import Reloader

    watcher = asyncio.ensure_future(Reloader(engine, names).run(stop)) if watch else None
    try:
        await engine.serve(until_idle=until_idle, idle_wait=idle_wait, stop=stop)
    finally:
        stop.set()
        if watcher is not None:
            await asyncio.wait({watcher}, timeout=1.0)
    return 130 if signal.SIGINT in caught else 0


def _run_loop(main: Coroutine[Any, Any, int]) -> int:
    """Like asyncio.run, but never waits for a thread still running a step at exit."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main)
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()  # shuts the default executor down without waiting for it


def _abandon_busy_threads() -> bool:
    """Give idle worker threads a moment to exit; True if some are still busy."""
    deadline = time.monotonic() + _THREAD_GRACE_S
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    return any(
        t.is_alive() and not t.daemon and t is not threading.current_thread()
        for t in threading.enumerate()
    )
