"""Where the MCP tools work: one state dir, and where the workflow files are.

The tools open the journal per call, as the CLI's commands do, so the server never holds it
open between calls and sees what runners and other commands wrote in the meantime.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager

from ..engine import Registry, Store, load_paths, open_store, runner_pid
from ..errors import DurableError

__all__ = ["NO_RUNNER", "Workspace"]

NO_RUNNER = (
    "no runner is up: this takes effect when one starts on this state dir "
    "(`durable dev`, or `durable dev --headless --until-idle` to drain the work and exit)"
)


class Workspace:
    """A state dir and the workflow paths (a callable, so pyproject.toml is read per call)."""

    def __init__(self, state_dir: str, paths: Callable[[], list[str]]) -> None:
        """Work on `state_dir`; `paths()` names the workflow files (InputError if none)."""
        self.state_dir = state_dir
        self._paths = paths

    @contextmanager
    def reading(self) -> Iterator[Store | None]:
        """The journal to read, or None when there is no state dir yet (none is created)."""
        if not os.path.exists(self.state_dir):
            yield None
            return
        with closing(open_store(self.state_dir, create=False)) as store:
            yield store

    @contextmanager
    def journal(self, *, create: bool = False) -> Iterator[Store]:
        """The journal (StateError when there is none, unless `create`)."""
        with closing(open_store(self.state_dir, create=create)) as store:
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
        return None if runner_pid(self.state_dir) is not None else NO_RUNNER
