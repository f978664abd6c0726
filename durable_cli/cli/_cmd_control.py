"""Commands that change the journal: send, replay, cancel, fail. None needs a runner up."""

from __future__ import annotations

from contextlib import closing
from typing import Annotated

import typer

from ..engine import actions
from ._cmd_fail import fail
from ._options import STATE_DEFAULT, DatabaseUrl, StateDir
from ._send import send as send_event
from ._state import open_state

__all__ = ["COMMANDS", "cancel", "continue_run", "fail", "replay", "send"]

RunId = Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")]


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
    run_id: RunId,
    from_step: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="STEP_ID", help="Copy the steps before this one; run from it."
        ),
    ] = None,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Queue a new run with the same event; prints the new run id.

    Example: durable replay 01J9Z3K5 --from classify-document
    """
    with closing(open_state(state_dir, database_url)) as store:
        print(actions.replay_run(store, run_id, from_step).id)


def cancel(
    run_id: RunId, state_dir: StateDir = STATE_DEFAULT, database_url: DatabaseUrl = None
) -> None:
    """Cancel a run that has not finished.

    Example: durable cancel 01J9Z3K5
    """
    with closing(open_state(state_dir, database_url)) as store:
        run = actions.cancel_run(store, run_id)
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
