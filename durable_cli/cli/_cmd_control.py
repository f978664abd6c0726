"""Commands that change the journal: send, replay, cancel, fail. None needs a runner up."""

from __future__ import annotations

from contextlib import closing
from typing import Annotated

import typer

from ..engine import actions
from ..errors import InputError
from ._bulk import DryRun, Function, Since, Statuses, act_on_many, check_one_or_many
from ._cmd_fail import fail
from ._options import STATE_DEFAULT, DatabaseUrl, StateDir
from ._send import read_data
from ._send import send as send_event
from ._state import open_state

__all__ = ["COMMANDS", "cancel", "continue_run", "fail", "replay", "send"]

RunId = Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")]
OneRun = Annotated[
    str | None,
    typer.Argument(
        help="A run id or a unique prefix of one (or pick runs with --function).",
        show_default=False,
    ),
]


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
    picks = {"--status": status, "--since": since, "--dry-run": dry_run}
    many = check_one_or_many(run_id, function, picks)
    if many is not None and from_step is not None:
        raise InputError("--from replays one run from its step: give a RUN_ID, not --function")
    new_data = read_data(data)
    if many is not None:
        act_on_many(many, (state_dir, database_url), verb="replay", dry_run=dry_run, data=new_data)
        return
    with closing(open_state(state_dir, database_url)) as store:
        print(actions.replay_run(store, str(run_id), from_step, data=new_data).id)


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
    picks = {"--status": status, "--since": since, "--dry-run": dry_run}
    many = check_one_or_many(run_id, function, picks)
    if many is not None:
        act_on_many(many, (state_dir, database_url), verb="cancel", dry_run=dry_run)
        return
    with closing(open_state(state_dir, database_url)) as store:
        run = actions.cancel_run(store, str(run_id))
    print(f"cancelled {run.id}")


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


COMMANDS = {
    "send": send,
    "replay": replay,
    "cancel": cancel,
    "continue": continue_run,
    "fail": fail,
}
