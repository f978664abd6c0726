"""Importing workflow files and folders, and collecting their functions."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterable
from types import ModuleType

from ..errors import LoadError
from ..sdk import Function
from ._registry import Registry

__all__ = ["discover_files", "load_file", "load_paths", "module_name_for"]

_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "venv", "build", "dist"}


def discover_files(paths: Iterable[str]) -> list[str]:
    """The .py files named by `paths` (files as given, folders searched recursively)."""
    found: list[str] = []
    for raw in paths:
        path = os.path.abspath(raw)
        if os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
                found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".py"))
        else:
            raise LoadError("no such file or folder", file=raw)
    seen: set[str] = set()
    return [f for f in found if not (f in seen or seen.add(f))]


def module_name_for(path: str) -> str:
    """A stable, unique module name for a workflow file."""
    stem = os.path.splitext(os.path.basename(path))[0]
    digest = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:8]
    return f"durable_workflows_{digest}.{stem}" if stem.isidentifier() else f"durable_wf_{digest}"


def _error_site(exc: BaseException, path: str) -> tuple[str, int | None]:
    """Where a failed import went wrong: the innermost frame in user code, not a library."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.endswith(".py"):
        return os.path.abspath(exc.filename), exc.lineno
    site: tuple[str, int | None] = (path, None)
    libraries = (os.path.dirname(os.__file__), os.path.dirname(os.path.dirname(__file__)))
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        name = os.path.abspath(frame.f_code.co_filename)
        if name.endswith(".py") and "site-packages" not in name and not name.startswith(libraries):
            site = (name, lineno)
    return site


def load_file(path: str) -> tuple[ModuleType, list[Function]]:
    """Import one file (fresh each time) and return it with the functions it defines."""
    path = os.path.abspath(path)
    name = module_name_for(path)
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so a workflow can import its sibling helper modules
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LoadError("not an importable Python file", file=path)
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        message = (
            f"SyntaxError: {exc.msg}"
            if isinstance(exc, SyntaxError)
            else (f"{type(exc).__name__}: {exc}")
        )
        file, line = _error_site(exc, path)
        if file != path:
            message += f" (while importing {os.path.basename(path)})"
        raise LoadError(message, file=file, line=line) from exc
    functions: list[Function] = []
    for value in vars(module).values():
        if isinstance(value, Function) and all(value is not f for f in functions):
            functions.append(value)
    return module, functions


def load_paths(paths: Iterable[str]) -> Registry:
    """Load every workflow file under `paths` into one registry (any failure: LoadError)."""
    files = discover_files(paths)
    functions: list[Function] = []
    for path in files:
        _, found = load_file(path)
        functions.extend(found)
    return Registry(functions, files)
