"""Options several commands share, as `Annotated` types."""

from __future__ import annotations

from typing import Annotated

import typer

from ._config import DEFAULT_STATE_DIR, STATE_ENV

__all__ = ["Json", "Paths", "StateDir"]

StateDir = Annotated[
    str,
    typer.Option(
        "--state-dir",
        envvar=STATE_ENV,
        metavar="DIR",
        help="Folder holding the journal.",
        show_default=True,
    ),
]
STATE_DEFAULT = DEFAULT_STATE_DIR

Json = Annotated[bool, typer.Option("--json", help="Print JSON on stdout and nothing else.")]

Paths = Annotated[
    list[str] | None,
    typer.Argument(
        help="Workflow files or folders (default: \\[tool.durable] paths in pyproject.toml).",
        show_default=False,
    ),
]
