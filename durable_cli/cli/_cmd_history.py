"""Commands that take a run elsewhere: export (a run as one JSON document) and import."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import closing
from typing import Annotated, Any

import typer

from ..engine import check_import, export_run, import_run, read_document
from ..errors import InputError
from ._options import STATE_DEFAULT, DatabaseUrl, StateDir
from ._state import open_state

__all__ = ["COMMANDS", "export", "import_file"]


def export(
    run_id: Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")],
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write it to FILE, not stdout."),
    ] = None,
    with_children: Annotated[
        bool,
        typer.Option("--with-children", help="Include its child runs (step.invoke), and theirs."),
    ] = False,
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Print a run, its event and its steps as one JSON document.

    Read it back with `durable import`, or replay it in a test (durable_cli.testing.replay).

    Example: durable export 01J9Z3K5 --output failed-run.json
    """
    with closing(open_state(state_dir, database_url)) as store:
        doc = export_run(store, run_id, with_children=with_children)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    _write_whole(output, text)
    print(f"exported run {doc['run']['id']} to {output}")


def import_file(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A `durable export` file, or -.")],
    state_dir: StateDir = STATE_DEFAULT,
    database_url: DatabaseUrl = None,
) -> None:
    """Recreate an exported run (its event, its child runs) here, finished; prints its id.

    An id this state has already gets a fresh one (said on stderr). Then show it, or replay it
    from a step with your code.

    Example: durable import failed-run.json && durable replay 01J9Z3K5 --from charge-card
    """
    document = _checked(file)  # bad input is refused before any state is opened or made
    with closing(open_state(state_dir, database_url, create=True)) as store:
        done = import_run(store, document)
    for old, new in done.renamed_runs.items():
        print(f"run {old} is here already: imported as {new}", file=sys.stderr)
    for old, new in done.renamed_events.items():
        print(f"event {old} is here already: imported as {new}", file=sys.stderr)
    print(done.run_id)


def _checked(file: str) -> Any:
    document = read_document(file)
    try:
        check_import(document)
    except InputError as exc:
        raise InputError(f"{file}: {exc}") from None
    return document


def _write_whole(path: str, text: str) -> None:
    """Write `text` to `path` through a file beside it: a reader never sees half a document."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".durable-export-", dir=os.path.dirname(path) or ".")
    except OSError as exc:
        raise InputError(f"--output {path}: can't write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise InputError(f"--output {path}: can't write it ({exc.strerror})") from None


COMMANDS = {"export": export, "import": import_file}
