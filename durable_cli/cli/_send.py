"""`durable send`: read the payload, validate, queue. Imports neither typer nor textual.

`fast_send` handles the everyday invocation straight from argv so that a script sending many
events does not pay for typer's import; anything else (help, a typo, an unknown option) goes to
the typer command, which calls the same `send`.
"""

from __future__ import annotations

import json
import sys

from ..errors import InputError
from ._state import ONE_SHOT_RETRY_S, Given, where

TYPE_CHECKING = False  # typing costs `durable send` 20 ms to import; annotations are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = ["fast_send", "read_data", "send"]

_DATA_HELP = "give a JSON object, a file holding one, or - for stdin"
_OPTIONS = {
    "--data": "data",
    "-d": "data",
    "--id": "event_id",
    "--state-dir": "state_dir",
    "--database-url": "database_url",
}


def read_data(arg: str | None) -> Any:
    """The `--data` value: inline JSON, `-` (stdin) or a file name; InputError says what's wrong."""
    if arg is None:
        return None
    missing = False
    if arg == "-":
        source, text = "stdin", sys.stdin.read()
    elif arg.lstrip()[:1] in ("{", "["):
        source, text = "--data", arg
    else:
        try:
            with open(arg, encoding="utf-8") as fh:
                source, text = arg, fh.read()
        except FileNotFoundError:
            source, text, missing = "--data", arg, True  # maybe `--data 42`: JSON, not a file
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise InputError(f"--data {arg}: can't read it ({reason})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if missing:
            raise InputError(f"--data {arg}: no such file ({_DATA_HELP})") from None
        raise InputError(
            f"{source}: invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if value is None:  # make_event reads None as "no data"; an explicit null is a mistake
        raise InputError("event data must be a JSON object, not null")
    return value


def send(
    name: str,
    data: str | None,
    event_id: str | None,
    state_dir: str | None,
    database_url: str | None = None,
    validate: bool = True,
) -> str:
    """Validate and queue one event, waking the runners; returns the event id."""
    from ..engine import make_event
    from ..store import send_event

    place = where(state_dir, database_url)
    event = make_event(name, read_data(data), event_id=event_id)
    if validate:  # the data must fit the event type a workflow declares for it, if any
        from ._send_types import check_event_types

        check_event_types(name, event["data"])
    # validated before the state is opened: bad input creates no state dir and connects nowhere
    return send_event(
        event,
        state_dir=place.state_dir,
        database_url=place.database_url,
        retry_s=ONE_SHOT_RETRY_S,
    )


def fast_send(argv: list[str]) -> int | None:
    """Run `send NAME [--data X] [--id ID] [--state-dir D] [--database-url URL]` without typer;
    None: not that shape."""
    if not argv or argv[0] != "send":
        return None
    name: str | None = None
    values: dict[str, str] = {}
    args = iter(argv[1:])
    for arg in args:
        if arg.startswith("-"):
            flag, eq, value = arg.partition("=")
            key = _OPTIONS.get(flag)
            if key is None or key in values:
                return None
            if not eq:
                value = next(args, None)  # type: ignore[assignment]
                if value is None:
                    return None
            values[key] = Given(value)
        elif name is None:
            name = arg
        else:
            return None
    if name is None:
        return None
    event_id = send(
        name,
        values.get("data"),
        values.get("event_id"),
        values.get("state_dir"),
        values.get("database_url"),
    )
    sys.stdout.write(event_id + "\n")
    return 0
