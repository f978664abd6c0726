"""Where things are: the state's defaults (the store's), and the workflow files (arguments or
pyproject.toml)."""

from __future__ import annotations

from ..errors import InputError
from ..store import DATABASE_ENV, DEFAULT_STATE_DIR, STATE_ENV, default_state_dir

TYPE_CHECKING = False  # typing costs `durable send` 20 ms to import; annotations are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "DATABASE_ENV",
    "DEFAULT_STATE_DIR",
    "STATE_ENV",
    "configured_paths",
    "default_state_dir",
    "workflow_paths",
]

_HOW = (
    "name the workflow files or folders (`durable dev workflows/`) or list them in "
    'pyproject.toml as [tool.durable] paths = ["workflows/"]'
)


def configured_paths() -> list[str] | None:
    """`[tool.durable] paths` from pyproject.toml in the current folder, or None if it sets none."""
    pyproject = "pyproject.toml"
    try:
        with open(pyproject, "rb") as fh:
            import tomllib  # only when there is a file to read: it costs an import

            data: dict[str, Any] = tomllib.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise InputError(f"{pyproject}: can't read it ({exc})") from None
    paths = data.get("tool", {}).get("durable", {}).get("paths")
    if paths is None:
        return None
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        raise InputError(
            f"{pyproject}: [tool.durable] paths must be a list of file or folder names"
        )
    return paths


def workflow_paths(paths: list[str] | None) -> list[str]:
    """The files/folders to load: the arguments, else pyproject.toml (InputError if neither)."""
    if paths:
        return list(paths)
    found = configured_paths()
    if not found:
        raise InputError(f"no workflow files given: {_HOW}")
    return found
