"""Options several commands share, as `Annotated` types."""

from __future__ import annotations

from typing import Annotated

import typer

from ._config import DATABASE_ENV, DEFAULT_STATE_DIR, STATE_ENV
from ._state import ONE_SHOT_RETRY_S, Given

__all__ = [
    "STATE_DEFAULT",
    "Concurrency",
    "DatabaseUrl",
    "IdleWait",
    "Json",
    "Lease",
    "Paths",
    "StateDir",
    "UntilIdle",
]


def _mark_typed(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """A value typed on the command line comes back as `Given`: the command line beats the
    environment when `_state.where` weighs --state-dir against a database URL."""
    source = ctx.get_parameter_source(param.name or "")
    if value is not None and source is not None and source.name == "COMMANDLINE":
        return Given(value)
    return value


StateDir = Annotated[
    str,
    typer.Option(
        "--state-dir",
        envvar=STATE_ENV,
        metavar="DIR",
        help="Folder holding the journal.",
        show_default=True,
        callback=_mark_typed,
    ),
]
STATE_DEFAULT = DEFAULT_STATE_DIR

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar=DATABASE_ENV,
        metavar="URL",
        help="A PostgreSQL database (postgresql://user@host/db) holding the state instead of"
        " --state-dir; needs the postgres extra. A lost connection is retried: for"
        f" {ONE_SHOT_RETRY_S:g} s by one-shot commands, until it is back by dev and worker.",
        show_default=False,
        callback=_mark_typed,
    ),
]

Json = Annotated[bool, typer.Option("--json", help="Print JSON on stdout and nothing else.")]

Paths = Annotated[
    list[str] | None,
    typer.Argument(
        help="Workflow files or folders (default: \\[tool.durable] paths in pyproject.toml).",
        show_default=False,
    ),
]

# the runner's options, shared by `durable dev` and `durable worker`
UntilIdle = Annotated[
    bool,
    typer.Option(
        "--until-idle",
        help="Exit 0 once nothing is queued and no run can progress within --idle-wait.",
    ),
]
IdleWait = Annotated[
    float,
    typer.Option(
        "--idle-wait", metavar="SECONDS", help="Timers nearer than this keep --until-idle up."
    ),
]
Concurrency = Annotated[
    int, typer.Option("--concurrency", metavar="N", help="Runs in flight at once.")
]
Lease = Annotated[
    float,
    typer.Option(
        "--lease",
        metavar="SECONDS",
        help="How long this runner's runs stay its own once it falls silent (killed, cut off);"
        " then another worker resumes them. Renewed every third of that.",
    ),
]
