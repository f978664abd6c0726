"""Commands that only read: functions, runs, show. They never create or change the state dir."""

from __future__ import annotations

import json
import os
from contextlib import closing
from typing import Annotated, Any

import typer

from ..engine import check_run_status, function_rows, list_runs, load_paths, run_detail
from ..errors import InputError
from ..store import RUN_STATUSES
from ._config import workflow_paths
from ._options import STATE_DEFAULT, DatabaseUrl, Json, Paths, StateDir
from ._state import Given, open_existing, open_state, where

__all__ = ["COMMANDS", "doctor", "functions", "runs", "show"]


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def functions(
    paths: Paths = None,
    as_json: Json = False,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """List the functions found, with their triggers and source file.

    Example: durable functions examples/ --json
    """
    del state_dir, database_url  # taken like every command's, so scripts can pass them anywhere
    rows = function_rows(load_paths(workflow_paths(paths)))
    if as_json:
        _print_json(rows)
    else:
        from . import _render  # rich only for human output

        _render.functions_table(rows)


def runs(
    function: Annotated[
        str | None, typer.Option("--function", "-f", metavar="FN_ID", help="Only this function.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", "-s", metavar="STATUS", help=f"One of: {', '.join(RUN_STATUSES)}."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", min=1, help="At most N runs.")
    ] = 20,
    as_json: Json = False,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """List runs, newest first.

    Example: durable runs --status failed --limit 5
    """
    check_run_status(status)
    found: list[dict[str, Any]] = []
    store = open_existing(state_dir, database_url)  # no state dir yet: no runs, none created
    if store is not None:
        with closing(store):
            found = list_runs(store, function=function, status=status, limit=limit)
    if as_json:
        _print_json(found)
    else:
        from . import _render  # rich only for human output

        _render.runs_table(found)


def show(
    run_id: Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")],
    as_json: Json = False,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Show one run: event, status, output or error, and every step with its attempts.

    Example: durable show 01J9Z3K5 --json
    """
    with closing(open_state(state_dir, database_url)) as store:
        detail = run_detail(store, run_id)
    if as_json:
        _print_json(detail)
    else:
        from . import _render  # rich only for human output

        _render.run_view(detail)


def doctor(
    path: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATH]",
            help="The state dir to check, as error messages print it (default: --state-dir).",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Check a state dir or a database and explain what it finds; writes nothing. Exit 1 if
    anything is broken.

    On a database: the connection, the schema's version, the live workers, and runs whose lease
    ran out with no worker to take them.

    Example: durable doctor .durable
    """
    from ..store import diagnose, diagnose_database
    from ._doctor import exit_code, format_findings

    url = _doctor_database(path, state_dir, database_url)
    findings = diagnose_database(url) if url else diagnose(_doctor_dir(path, state_dir))
    if as_json:
        _print_json([f.to_dict() for f in findings])
    else:
        print("\n".join(format_findings(findings)))
    code = exit_code(findings)
    if code:
        raise typer.Exit(code)


def _doctor_database(path: str | None, state_dir: str, database_url: str | None) -> str | None:
    """The database to check, if the command is about one (PATH names a state dir)."""
    if path is None:
        return where(state_dir, database_url).database_url
    if isinstance(database_url, Given):
        raise InputError(
            f"durable doctor: PATH {path} is a state dir and --database-url a database;"
            " give one of them"
        )
    return None


def _doctor_dir(path: str | None, state_dir: str) -> str:
    """PATH, else --state-dir (or its variable); both typed, naming two folders: bad input."""
    if path is None:
        return state_dir
    if isinstance(state_dir, Given) and os.path.realpath(path) != os.path.realpath(state_dir):
        raise InputError(
            f"durable doctor: PATH {path} and --state-dir {state_dir} are different state dirs;"
            " give one of them"
        )
    return path


COMMANDS = {"functions": functions, "runs": runs, "show": show, "doctor": doctor}
