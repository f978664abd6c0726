"""Commands that change the journal: send, replay, cancel, fail. None needs a runner up."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..engine import actions
from ..errors import InputError
from ._bulk import DryRun, Function, Since, Statuses, act_on_many, check_one_or_many
from ._cmd_fail import fail
from ._options import STATE_DEFAULT, DatabaseUrl, StateDir
from ._send import read_data
from ._send import send as send_event
from ._state import open_state

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["COMMANDS", "cancel", "continue_run", "fail", "replay", "send"]

RunId = Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")]
OneRun = Annotated[
    str | None,
    typer.Argument(
        help="A run id or a unique prefix of one (or pick runs with --function).",
        show_default=False,
    ),
]
# --function, --status, --since and --dry-run: they pick many runs instead of one
_Picks = tuple[str | None, list[str] | None, str | None, bool]


def send(
    name: Annotated[str, typer.Argument(help="Event name, e.g. api/user.signup.")],
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            metavar="FILE|-|JSON",
            help="A JSON object: inline, a file, or - (stdin).",
        ),
    ] = None,
    event_id: Annotated[
        str | None,
        typer.Option("--id", metavar="ID", help="Event id; sending one id twice makes one run."),
    ] = None,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
    no_validate: Annotated[
        bool,
        typer.Option(
            "--no-validate",
            help="Don't check the data against the workflows' event_type (nor load them).",
        ),
    ] = False,
) -> None:
    """Queue an event (no runner needs to be up); prints only the event id.

    Example: durable send api/document.uploaded --data examples/events/document-uploaded.json
    """
    print(send_event(name, data, event_id, state_dir, database_url, validate=not no_validate))


def replay(
    run_id: OneRun = None,
    from_step: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="STEP_ID", help="Copy the steps before this one; run from it."
        ),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            metavar="FILE|-|JSON",
            help="The new run's event carries this JSON object instead (inline, a file, or -).",
        ),
    ] = None,
    function: Function = None,
    status: Statuses = None,
    since: Since = None,
    dry_run: DryRun = False,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Queue a new run with the same event (or new data); prints the new run id.

    With --function: one new run for each matching run, printed as "replayed ID as NEW_ID".

    Example: durable replay 01J9Z3K5 --from classify-document
    Example: durable replay --function process-uploaded-document --status failed --since 1h
    """
    _act_on_runs(
        "replay",
        run_id,
        (function, status, since, dry_run),
        (state_dir, database_url),
        lambda store, run, new_data: actions.replay_run(store, run, from_step, data=new_data).id,
        data=data,
        refuse_many=None if from_step is None else "--from replays one run from its step",
    )


def cancel(
    run_id: OneRun = None,
    function: Function = None,
    status: Statuses = None,
    since: Since = None,
    dry_run: DryRun = False,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Cancel a run that has not finished.

    With --function: every unfinished run that matches, one "cancelled ID" line each.

    Example: durable cancel 01J9Z3K5
    Example: durable cancel --function process-uploaded-document --status retrying --dry-run
    """
    _act_on_runs(
        "cancel",
        run_id,
        (function, status, since, dry_run),
        (state_dir, database_url),
        lambda store, run, _: f"cancelled {actions.cancel_run(store, run).id}",
    )


def continue_run(
    run_id: RunId, state_dir: StateDir = STATE_DEFAULT, database_url: DatabaseUrl = None
) -> None:
    """Let a run held for a code change go on with the new code (steps matched by id).

    The other way out is `durable replay RUN_ID --from STEP_ID` from the first differing step.

    Example: durable continue 01J9Z3K5
    """
    with closing(open_state(state_dir, database_url)) as store:
        run = actions.continue_run(store, run_id)
    print(f"continuing {run.id}")


def _act_on_runs(
    verb: str,
    run_id: str | None,
    picks: _Picks,
    place: tuple[str | None, str | None],
    one: Callable[[Store, str, Any], str],
    *,
    data: str | None = None,
    refuse_many: str | None = None,
) -> None:
    """`verb` (cancel, replay) the run RUN_ID names, printing what `one(store, run id, the
    --data read)` says, or with --function every run the options pick, a line each.
    `refuse_many`: why an option given goes with one run only."""
    function, status, since, dry_run = picks
    many = check_one_or_many(
        run_id, function, {"--status": status, "--since": since, "--dry-run": dry_run}
    )
    if many is not None and refuse_many is not None:
        raise InputError(f"{refuse_many}: give a RUN_ID, not --function")
    new_data = read_data(data)
    if many is not None:
        act_on_many(many, place, verb=verb, dry_run=dry_run, data=new_data)
        return
    with closing(open_state(*place)) as store:
        said = one(store, str(run_id), new_data)
    print(said)


COMMANDS = {
    "send": send,
    "replay": replay,
    "cancel": cancel,
    "continue": continue_run,
    "fail": fail,
}
