"""Where the MCP tools work: one state dir or database, and where the workflow files are.

The tools open the journal per call, as the CLI's commands do, so the server never holds it
open between calls and sees what runners and other commands wrote in the meantime.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager

from ..engine import Registry, Store, load_paths, open_state, runner_pid
from ..errors import DurableError

__all__ = ["NO_RUNNER", "Workspace"]

NO_RUNNER = (
    "no runner is up: this takes effect when one starts on this state dir "
    "(`durable dev`, or `durable dev --headless --until-idle` to drain the work and exit)"
)
NO_WORKER = (
    "no worker is up on this database: this takes effect when one starts "
    "(`durable worker --database-url …`)"
)
ONE_CALL_RETRY_S = 10.0  # a tool call rides out a database restart, never hangs on one gone


class Workspace:
    """A state dir and the workflow paths (a callable, so pyproject.toml is read per call)."""

    def __init__(
        self, state_dir: str, paths: Callable[[], list[str]], database_url: str | None = None
    ) -> None:
        """Work on `database_url` if given, else on `state_dir`; `paths()` names the workflow
        files (InputError if none)."""
        self.state_dir = state_dir
        self.database_url = database_url
        self._paths = paths

    def _open(self, create: bool) -> Store:
        if self.database_url is not None:
            return open_state(database_url=self.database_url, retry_s=ONE_CALL_RETRY_S)
        return open_state(state_dir=self.state_dir, create=create)

    @contextmanager
    def reading(self) -> Iterator[Store | None]:
        """The journal to read, or None when there is no state dir yet (none is created)."""
        if self.database_url is None and not os.path.exists(self.state_dir):
            yield None
            return
        with closing(self._open(create=False)) as store:
            yield store

    @contextmanager
    def journal(self, *, create: bool = False) -> Iterator[Store]:
        """The journal (StateError when there is none, unless `create`)."""
        with closing(self._open(create)) as store:
            yield store

    def registry(self) -> Registry:
        """The workflow functions, loaded afresh from the configured paths."""
        return load_paths(self._paths())

    def known_functions(self) -> frozenset[str] | None:
        """Function ids, to catch a mistyped one; None when the workflows can't be loaded."""
        try:
            return frozenset(self.registry().functions)
        except DurableError:
            return None  # a broken workflow is `durable dev`'s to report; don't block a fail

    def runner_note(self) -> str | None:
        """A note for results that wait for a runner: None when one is up."""
        if self.database_url is None:
            return None if runner_pid(self.state_dir) is not None else NO_RUNNER
        with self.journal() as store:
            live = any(info["live"] for info in store.leases.runners().values())
        return None if live else NO_WORKER
