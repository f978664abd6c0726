"""`durable cancel --function` and `durable replay --function`: the options that pick many runs,
the checks of what goes with what, and the printing. The selecting and acting is the engine's
(`engine.bulk`), which the TUI shares."""

from __future__ import annotations

import sys
from contextlib import closing
from typing import Annotated, Any

import typer

from ..engine import bulk
from ..errors import InputError
from ._state import open_existing

__all__ = ["DryRun", "Function", "Since", "Statuses", "act_on_many", "check_one_or_many"]

Function = Annotated[
    str | None,
    typer.Option(
        "--function",
        metavar="FN_ID",
        help="Act on every run of this function (narrowed by --status and --since).",
        show_default=False,
    ),
]
Statuses = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        help="With --function: only runs in this status (repeat it for several).",
        show_default=False,
    ),
]
Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="AGE",
        help="With --function: only runs created in the last AGE (30m, 1h, 2d).",
        show_default=False,
    ),
]
DryRun = Annotated[
    bool,
    typer.Option("--dry-run", help="With --function: print what it would do; change nothing."),
]


def check_one_or_many(
    run_id: str | None, function: str | None, picks: dict[str, Any]
) -> bulk.Selection | None:
    """The selection `--function` makes (None: one run, by id), or InputError for options that
    don't go together; `picks` are the options that only go with --function, by flag."""
    if run_id is not None and function is not None:
        raise InputError("give a RUN_ID or --function FN_ID, not both")
    if run_id is None and function is None:
        raise InputError("say which run (RUN_ID) or which runs (--function FN_ID)")
    if function is None:
        given = [flag for flag, value in picks.items() if value]
        if given:
            raise InputError(f"{given[0]} goes with --function FN_ID (it picks many runs)")
        return None
    since = picks.get("--since")
    statuses = picks.get("--status")
    return bulk.Selection(
        function,
        tuple(statuses) if statuses else None,
        None if since is None else bulk.parse_since(since),
    )


def act_on_many(
    selection: bulk.Selection,
    place: tuple[str | None, str | None],
    *,
    verb: str,
    dry_run: bool,
    data: Any = None,
) -> None:
    """Cancel or replay (`verb`) every run `selection` picks, printing one line per run."""
    cancel = verb == "cancel"
    done_word = "cancelled" if cancel else "replayed"
    selection.check(unfinished=cancel)
    if data is not None:
        bulk.check_data(data)  # refused before anything is read or written
    store = open_existing(*place)  # no state dir: no runs to act on, and none created
    if store is None:
        print(f"no runs of function {selection.function} match", file=sys.stderr)
        return
    with closing(store):
        runs = bulk.select_runs(store, selection, unfinished=cancel)
        if not runs:
            print(f"no runs of function {selection.function} match", file=sys.stderr)
            return
        if dry_run:
            for run in runs:
                print(f"would {verb} {run.id} ({run.status})")
            print(f"dry run: {_count(runs)} would be {done_word}; nothing changed", file=sys.stderr)
            return
        ids = [run.id for run in runs]
        done = bulk.cancel_runs(store, ids) if cancel else bulk.replay_runs(store, ids, data=data)
    for run_id, run in done.done:
        print(f"cancelled {run_id}" if cancel else f"replayed {run_id} as {run.id}")
    for run_id, reason in done.skipped:
        print(f"skipped {run_id}: {reason}", file=sys.stderr)
    print(f"{_count(done.done)} {done_word}", file=sys.stderr)


def _count(items: list[Any]) -> str:
    return f"{len(items)} run" + ("" if len(items) == 1 else "s")
