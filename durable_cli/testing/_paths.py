"""The folders of `[tool.durable] paths`, which the pytest plugin puts on sys.path.

`durable dev` puts each workflow file's folder on sys.path when it loads it; the plugin does the
same for a test session, so a test imports a workflow file by its name (`import document_pipeline`)
with no conftest.py or sys.path lines of its own.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

__all__ = ["workflow_folders"]


def workflow_folders(project: Path) -> list[str]:
    """The folders `project/pyproject.toml` names in `[tool.durable] paths` (a file's own folder).

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
    folders: list[str] = []
    for entry in paths if isinstance(paths, list) else []:
        if not isinstance(entry, str) or not entry:
            continue
        path = (project / entry).resolve()
        folder = str(path if path.is_dir() else path.parent)
        if path.exists() and folder not in folders:
            folders.append(folder)
    return folders


def _table(data: Any, key: str) -> dict[str, Any]:
    """`data[key]` when both are TOML tables, else an empty one."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}
