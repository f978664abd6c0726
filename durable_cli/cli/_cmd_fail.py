"""`durable fail`: inject a step failure, list the pending ones, remove one or all of them."""

from __future__ import annotations

import json
import shlex
from contextlib import closing
from typing import Annotated

import typer

from ..engine import actions, pending_failures
from ..errors import InputError
from ..store import PendingFailure
from ._config import configured_paths
from ._options import STATE_DEFAULT, DatabaseUrl, Json, StateDir
from ._state import open_existing, open_state, where

__all__ = ["fail"]

_Place = tuple[str | None, str | None]  # the command's --state-dir and --database-url


def fail(
    step_id: Annotated[
        str | None,
        typer.Argument(
            help="The step to fail (with --clear: to stop failing).", show_default=False
        ),
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", metavar="RUN_ID", help="Fail it in this run only.")
    ] = None,
    function: Annotated[
        str | None,
        typer.Option("--function", metavar="FN_ID", help="Fail it in every run of this function."),
    ] = None,
    times: Annotated[
        int | None,
        typer.Option(
            "--times",
            metavar="N",
            help="How many attempts to fail (default 1; -1: every attempt, until cleared).",
            show_default=False,
        ),
    ] = None,
    message: Annotated[
        str | None,
        typer.Option("--message", metavar="TEXT", help="The error message the step gets."),
    ] = None,
    show_list: Annotated[
        bool, typer.Option("--list", help="List the injected failures still pending.")
    ] = False,
    clear: Annotated[
        bool,
        typer.Option(
            "--clear", help="Remove the pending failure of STEP_ID (--run or --function)."
        ),
    ] = False,
    clear_all: Annotated[
        bool, typer.Option("--clear-all", help="Remove every pending injected failure.")
    ] = False,
    as_json: Json = False,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Make the next N attempts of a step fail without calling its code (retries still apply).

    Undo one: `durable fail STEP_ID --function FN_ID --clear` (or `--run RUN_ID --clear`).

    Undo all: `durable fail --clear-all`. See what is pending: `durable fail --list`.

    Example: durable fail classify-document --function process-uploaded-document --times 2
    """
    modes = [name for name, on in (("--list", show_list), ("--clear", clear)) if on]
    modes += ["--clear-all"] if clear_all else []
    if len(modes) > 1:
        raise InputError(f"use one of {', '.join(modes)} at a time")
    if as_json and not show_list:
        raise InputError("--json goes with --list")
    extras = {"--times": times, "--message": message}
    if show_list or clear_all:
        extras |= {"STEP_ID": step_id, "--run": run, "--function": function}
    given = [name for name, value in extras.items() if value is not None]
    if modes and given:
        raise InputError(f"{modes[0]} takes no {', '.join(given)}")
    place = (state_dir, database_url)
    if show_list:
        _list(place, as_json)
    elif clear_all:
        _clear_all(place)
    elif step_id is None:
        raise InputError("say which step (or use --list, --clear or --clear-all)")
    elif clear:
        with closing(open_state(*place)) as store:
            removed = actions.clear_failure(store, step_id, run_id=run, function_id=function)
        print(f"removed: {removed.describe()}")
    else:
        _inject(step_id, run, function, 1 if times is None else times, message or "", place)


def _inject(
    step_id: str,
    run: str | None,
    function: str | None,
    times: int,
    message: str,
    place: _Place,
) -> None:
    options = {"run_id": run, "function_id": function, "times": times}
    if run is None:
        known = _known_functions()
        actions.validate_failure(step_id, known_functions=known, **options)
        store = open_state(*place, create=True)  # works before anything ran: may create it
    else:
        store = open_state(*place)
        known = None
    with closing(store):
        actions.inject_failure(store, step_id, message=message, known_functions=known, **options)
    scope = f"run {run}" if run is not None else f"function {function}"
    attempts = "every attempt" if times < 0 else f"the next {times} attempt(s)"
    print(f"{attempts} of step {step_id} in {scope} will fail")
    which = ["--run", run] if run is not None else ["--function", str(function)]
    undo = ["durable", "fail", step_id, *which, *_state_args(place), "--clear"]
    print(f"undo: {shlex.join(undo)}")


def _state_args(place: _Place) -> list[str]:
    """The option the undo command needs to find the same state (none: it finds it alone)."""
    here, alone = where(*place), where(None, None)
    if here.database_url is not None:
        same = here.database_url == alone.database_url
        return [] if same else ["--database-url", here.database_url]
    return [] if here.state_dir == alone.state_dir else ["--state-dir", str(here.state_dir)]


def _list(place: _Place, as_json: bool) -> None:
    found: list[PendingFailure] = []
    store = open_existing(*place)  # no state dir yet: nothing pending, and none created
    if store is not None:
        with closing(store):
            found = pending_failures(store)
    if as_json:
        print(json.dumps([f.to_dict() for f in found], indent=2, ensure_ascii=False))
        return
    if not found:
        print("no injected failures pending")
        return
    rows = [("STEP", "WHERE", "FAILS", "MESSAGE")]
    rows += [(f.step, f.scope, f.remaining, f.message) for f in found]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[3]]).rstrip())


def _clear_all(place: _Place) -> None:
    removed: list[PendingFailure] = []
    store = open_existing(*place)
    if store is not None:
        with closing(store):
            removed = actions.clear_all_failures(store)
    if not removed:
        print("no injected failures were pending")
    for failure in removed:
        print(f"removed: {failure.describe()}")


def _known_functions() -> frozenset[str] | None:
    """Function ids from pyproject's workflow paths, when they load; None: can't tell."""
    from ..engine import load_paths
    from ..errors import DurableError

    paths = configured_paths()
    if not paths:
        return None
    try:
        return frozenset(load_paths(paths).functions)
    except DurableError:
        return None  # a broken workflow is `durable dev`'s to report; don't block a fail
