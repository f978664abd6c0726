"""`[tool.durable] paths`: its folders, which the pytest plugin puts on sys.path, and its
files, where `--durable-replay` finds functions by id.

`durable dev` puts each workflow file's folder on sys.path when it loads it; the plugin does the
same for a test session, so a test imports a workflow file by its name (`import document_pipeline`)
with no conftest.py or sys.path lines of its own.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

__all__ = ["workflow_folders", "workflow_paths"]


def workflow_paths(project: Path) -> list[str]:
    """The files and folders `project/pyproject.toml` names in `[tool.durable] paths`, resolved
    (those that exist).

    A missing or malformed setting gives none rather than failing every test session: `durable
    dev` is where a bad setting is reported.
    """
    try:
        with open(project / "pyproject.toml", "rb") as fh:
            data: Any = tomllib.load(fh)
    except (OSError, ValueError):  # tomllib.TOMLDecodeError is a ValueError
        return []
    paths = _table(_table(data, "tool"), "durable").get("paths")
    if isinstance(paths, str):
        paths = [paths]
    found: list[str] = []
    for entry in paths if isinstance(paths, list) else []:
        if not isinstance(entry, str) or not entry:
            continue
        path = (project / entry).resolve()
        if path.exists() and str(path) not in found:
            found.append(str(path))
    return found


def workflow_folders(project: Path) -> list[str]:
    """The folders of `[tool.durable] paths` (a file's own folder), for sys.path."""
    folders: list[str] = []
    for entry in workflow_paths(project):
        path = Path(entry)
        folder = str(path if path.is_dir() else path.parent)
        if folder not in folders:
            folders.append(folder)
    return folders


def _table(data: Any, key: str) -> dict[str, Any]:
    """`data[key]` when both are TOML tables, else an empty one."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}
