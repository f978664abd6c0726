"""Hot reload: watch the workflow files and the local modules they import; swap code between steps.

A save re-imports the changed code into a new registry and hands it to the engine in one
assignment, so a step already running finishes on the code it started with and the next attempt
(or the next run) uses the new code. A file that fails to import is reported and the last good
version stays live.
"""

from __future__ import annotations

import asyncio
import os
import sys
import sysconfig
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import LoadError
from ._listener import Change
from ._loader import discover_files, load_paths
from ._registry import Registry

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Reloader", "local_module_files"]

_LIBRARY_ROOTS = tuple(
    os.path.abspath(p) + os.sep
    for p in {
        sysconfig.get_paths().get("stdlib", ""),
        sysconfig.get_paths().get("platstdlib", ""),
        sysconfig.get_paths().get("purelib", ""),
        sysconfig.get_paths().get("platlib", ""),
        sys.prefix,
        sys.base_prefix,
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),  # durable itself
    }
    if p
)


def _is_local(path: str, roots: Iterable[str]) -> bool:
    if not path.endswith(".py") or "site-packages" in path or path.startswith(_LIBRARY_ROOTS):
        return False
    return any(path.startswith(root) for root in roots)


def local_module_files(roots: Iterable[str]) -> dict[str, str]:
    """Module name → file for imported modules that live under `roots` (not libraries)."""
    roots = tuple(os.path.abspath(r).rstrip(os.sep) + os.sep for r in roots)
    found = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and _is_local(os.path.abspath(path), roots):
            found[name] = os.path.abspath(path)
    return found


class Reloader:
    """Watches the sources behind an engine's registry and reloads them on change."""

    def __init__(self, engine: Engine, paths: list[str], *, debounce_ms: int = 50) -> None:
        """Watch `paths` (the files/folders `durable dev` was given) for `engine`."""
        self.engine = engine
        self.paths = [os.path.abspath(p) for p in paths]
        self.debounce_ms = debounce_ms
        self._folders = [p for p in self.paths if os.path.isdir(p)]
        homes = {p if os.path.isdir(p) else os.path.dirname(p) for p in self.paths}
        # modules the workflows import from their folders or the project (cwd) are theirs to
        # reload; at first we only know the ones beside the workflow files
        self._roots = sorted(homes | {os.getcwd()})
        self._owned = local_module_files(sorted(homes))
        self.files: set[str] = set()
        self.last_error: LoadError | None = None
        self.reloads = 0
        self._refresh_watch_set()

    def _refresh_watch_set(self) -> None:
        workflow_files = set(discover_files(self.paths)) if self._exists() else set()
        self.files = workflow_files | set(self._owned.values())

    def _exists(self) -> bool:
        return all(os.path.exists(p) for p in self.paths)

    def _wanted(self, path: str) -> bool:
        path = os.path.abspath(path)
        if path in self.files:
            return True
        return path.endswith(".py") and any(path.startswith(f + os.sep) for f in self._folders)

    def reload(self, changed: Iterable[str] = ()) -> Registry | None:
        """Re-import everything now; on success swap the engine's registry and return it."""
        started = time.perf_counter()
        # drop the workflows' local modules so their imports of them run fresh
        for name in self._owned:
            sys.modules.pop(name, None)
        before = set(sys.modules)
        try:
            registry = load_paths(self.paths)
        except LoadError as exc:
            # keep watching every file we knew, so fixing a broken helper triggers a reload
            self._owned = {**self._owned, **self._imported_since(before)}
            self._refresh_watch_set()
            self.last_error = exc
            self.engine.emit(
                Change(
                    kind="load_error",
                    at=self.engine.clock.now_ms(),
                    error=str(exc),
                    detail={
                        "file": exc.file,
                        "line": exc.line,
                        "message": exc.message,
                        "changed": sorted(changed),
                    },
                )
            )
            return None
        self._owned = self._imported_since(before)
        old = self.engine.registry
        self.engine.swap_registry(registry)
        self.last_error = None
        self.reloads += 1
        self._refresh_watch_set()
        added = sorted(set(registry.functions) - set(old.functions))
        removed = sorted(set(old.functions) - set(registry.functions))
        self.engine.emit(
            Change(
                kind="reload",
                at=self.engine.clock.now_ms(),
                duration_ms=int((time.perf_counter() - started) * 1000),
                detail={
                    "files": list(registry.files),
                    "functions": sorted(registry.functions),
                    "added": added,
                    "removed": removed,
                    "changed": sorted(changed),
                },
            )
        )
        return registry

    def _imported_since(self, before: set[str]) -> dict[str, str]:
        new = local_module_files(self._roots)
        return {name: path for name, path in new.items() if name not in before}

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until `stop` is set, reloading after each debounced batch of changes."""
        from watchfiles import awatch  # here: only `durable dev` needs the watcher

        while not stop.is_set():
            watched = sorted({os.path.dirname(f) for f in self.files} | set(self._folders))
            watched = [d for d in watched if os.path.isdir(d)]
            if not watched:
                await asyncio.sleep(0.5)
                continue
            before = set(self.files)
            async for changes in awatch(
                *watched,
                watch_filter=lambda _change, path: self._wanted(path),
                debounce=self.debounce_ms,
                step=10,
                stop_event=stop,
                recursive=bool(self._folders),
            ):
                self.reload([path for _, path in changes])
                if self.files != before:
                    break  # the set of imported modules changed: watch the new folders too
