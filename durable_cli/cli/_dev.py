"""`durable dev` and `durable worker`: load the workflows, open the state, serve until stopped
or idle.

On a state dir the runner takes the state dir's lock (one runner there); on a database any
number of runners share it, each under its lease. Ctrl-C (SIGINT) and SIGTERM set a stop event:
the loop ends between journal writes, and the runner gives its lease up, so its runs are any
other worker's at once. A step still running in a worker thread is abandoned (it runs again
where the run resumes, as after a crash) rather than waited for. A runner held in a store call
(a database that is away is retried until it is back) can't reach its loop: it exits
`_STOP_GRACE_S` after the signal all the same, and its lease lapses on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from ._state import open_state, where

__all__ = ["run_dev"]

_THREAD_GRACE_S = 0.3  # how long to let idle worker threads wind down before abandoning busy ones
_CLOSE_S = 3.0  # how long giving the lease up may take (a database that is away: it lapses)
_STOP_GRACE_S = 10.0  # after a signal, how long a runner held in a store call is waited for


def run_dev(
    paths: list[str] | None,
    *,
    state_dir: str | None,
    database_url: str | None = None,
    headless: bool = False,
    until_idle: bool = False,
    idle_wait: float = 2.0,
    watch: bool = True,
    concurrency: int = 16,
    durability: str | None = None,
    lease_s: float | None = None,
    command: str = "dev",
) -> int:
    """Run the workflows under `paths` (`command`: "dev" or "worker", which is always
    headless); returns the exit code."""
    from ..engine import Engine, load_paths

    if idle_wait < 0:
        raise InputError("--idle-wait must be 0 or more seconds")
    if concurrency < 1:
        raise InputError("--concurrency must be 1 or more")
    if lease_s is not None and not lease_s > 0:
        raise InputError("--lease must be more than 0 seconds")
    shared = where(state_dir, database_url).database_url is not None
    names = workflow_paths(paths)
    registry = load_paths(names)  # before the store opens: a broken file writes nothing
    state = open_state(state_dir, database_url, create=True, runner=True, durability=durability)
    with closing(state) as store:
        store.lock_runner()
        options = {} if lease_s is None else {"lease_s": lease_s}
        engine = Engine(store, registry, concurrency=concurrency, **options)
        app = _tui() if command == "dev" and not headless and sys.stdout.isatty() else None
        log = None
        if app is not None:
            code = _run_tui(app, engine, names, watch, _label(store.path) if shared else None)
        else:
            width = max((len(f) for f in registry.functions), default=8)
            log = HeadlessLog(sys.stdout, color=sys.stdout.isatty(), fn_width=width)
            engine.add_listener(log)
            _banner(command, registry, names, store.path, watch, engine.lease.lease_ms)
            try:
                code = _run_loop(_serve(engine, names, until_idle, idle_wait, watch))
            finally:
                log.flush()
        closed = _close(engine)
        busy = _abandon_busy_threads() or not closed
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


def _run_tui(app: Any, engine: Any, names: list[str], watch: bool, database: str | None) -> int:
    """The TUI; on a shared database, with the other workers' runs and the live worker count."""
    if database is None:
        return int(app(engine, paths=names, watch=watch))
    from ._others import OtherWorkers

    others = OtherWorkers(engine, database)
    others.start()
    try:
        return int(app(engine, paths=names, watch=watch))
    finally:
        others.close()


def _label(url: str) -> str:
    """`host:port/dbname` of a database URL (as the store shows it, password masked), for the
    status line; the URL itself when it is not one (a `key=value` connection string)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres") or not parts.hostname:
        return url
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname}{port}{parts.path}"


def _close(engine: Any) -> bool:
    """Give the lease up (`engine.close`) on a thread of its own: False when it could not be
    done in `_CLOSE_S` (a database that is away), and the lease is left to lapse."""
    done = threading.Thread(target=engine.close, name="durable-close", daemon=True)
    done.start()
    done.join(_CLOSE_S)
    return not done.is_alive()


def _banner(
    command: str, registry: Any, names: list[str], state: str, watch: bool, lease_ms: int
) -> None:
    fns = ", ".join(sorted(registry.functions)) or "no functions"
    files = len(registry.files)
    if command == "dev":
        how = "watching for changes" if watch else "not watching"
    else:
        how = f"lease {lease_ms / 1000:g}s"
    print(
        f"durable {command}: {files} file(s), {fns}; state in {state}; {how}; pid {os.getpid()}",
        file=sys.stderr,
        flush=True,
    )


async def _serve(
    engine: Any, names: list[str], until_idle: bool, idle_wait: float, watch: bool
) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    caught: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        # a plain handler, not the loop's: it runs even while the loop is held in a store call
        if caught:  # a second Ctrl-C: the user does not want to wait for anything
            sys.stdout.flush()
            os._exit(128 + signum)
        caught.append(signum)
        with contextlib.suppress(RuntimeError):  # a loop already closed: nothing to stop
            loop.call_soon_threadsafe(stop.set)
        _exit_later(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    from ..engine import Reloader

    watcher = asyncio.ensure_future(Reloader(engine, names).run(stop)) if watch else None
    if watcher is not None:
        # the watcher's first turn imports watchfiles and arms the OS watch: let it run before
        # the engine's first turn, which starts queued runs on worker threads at once; else a
        # file saved as soon as those runs show (a slow import on a busy machine) goes unseen
        await asyncio.sleep(0)
    try:
        await engine.serve(until_idle=until_idle, idle_wait=idle_wait, stop=stop)
    finally:
        stop.set()
        if watcher is not None:
            await asyncio.wait({watcher}, timeout=1.0)
    return 130 if signal.SIGINT in caught else 0


def _exit_later(code: int) -> None:
    """Exit with `code` in `_STOP_GRACE_S` unless the process has ended by then."""

    def wait_then_exit() -> None:
        time.sleep(_STOP_GRACE_S)
        print(
            "durable: still held by the store after a stop signal (the database away?);"
            " exiting, and the lease lapses on its own",
            file=sys.stderr,
            flush=True,
        )
        sys.stdout.flush()
        os._exit(code)

    threading.Thread(target=wait_then_exit, name="durable-stop", daemon=True).start()


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
