"""`pytest --durable-replay DIR`: one test per exported run in DIR, replayed on current code.

Each `*.json` file under DIR is a test: its run's function is found by id among the workflow
files of `[tool.durable] paths` (loaded once per session, as `durable dev` loads them) and
replayed with `durable_cli.testing.replay`. A mismatch fails with the recorded step order beside
the requested one; a run that completed when it was recorded and now fails, fails too.
The engine is imported only when the first such test runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._paths import workflow_paths

__all__ = ["ReplayFile", "ReplayItem", "replay_dirs"]

_REGISTRY = pytest.StashKey[Any]()


def replay_dirs(config: pytest.Config) -> list[Path]:
    """The folders given with `--durable-replay` (a UsageError for one that is not there)."""
    dirs = []
    for raw in config.getoption("durable_replay") or ():
        path = Path(raw)
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        if not path.is_dir():
            raise pytest.UsageError(f"--durable-replay: no folder {raw}")
        dirs.append(path.resolve())
    return dirs


class ReplayFile(pytest.File):
    """An exported run: one test."""

    def collect(self) -> Iterator[pytest.Item]:
        """The one replay test of this file."""
        yield ReplayItem.from_parent(self, name="replay")


class ReplayFailed(AssertionError):
    """The replay ran but its run did not end as the recorded one did."""


class ReplayItem(pytest.Item):
    """Replays the file's run against the current code of its function."""

    def runtest(self) -> None:
        """Load the history, find its function, replay; raise on any mismatch."""
        from ..engine import load_export
        from ._replay import replay

        exported = load_export(self.path)
        fn_id = exported.run.function
        registry = _registry(self.config)
        fn = registry.get(fn_id)
        if fn is None and not workflow_paths(self.config.rootpath):
            raise ReplayFailed(
                f"no function {fn_id!r}: pyproject.toml names no workflow files"
                " ([tool.durable] paths)"
            )
        if fn is None:
            known = ", ".join(sorted(f.id for f in registry)) or "none"
            raise ReplayFailed(
                f"no function {fn_id!r} in the workflow files of [tool.durable] paths"
                f" (found: {known})"
            )
        result = replay(fn, self.path, functions=[f for f in registry if f is not fn])
        if exported.run.status == "completed" and result.status == "failed":
            raise ReplayFailed(
                f"{fn_id}: the recorded run completed; replayed on this code it failed"
                f" ({result.error})\n{result.timeline()}"
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """A mismatch as its message and the two step orders side by side."""
        from ..errors import DurableError, NondeterminismError

        exc = excinfo.value
        if isinstance(exc, NondeterminismError):
            return f"{exc}\n\n{exc.side_by_side()}"
        if isinstance(exc, ReplayFailed | DurableError):
            return str(exc)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, None, str]:
        """Where the test comes from: the exported file."""
        return self.path, None, f"replay of {self.path.name}"


def _registry(config: pytest.Config) -> Any:
    """The functions of `[tool.durable] paths`, loaded once per session (a LoadError, each
    time it is asked, when they don't load)."""
    found = config.stash.get(_REGISTRY, None)
    if found is None:
        from ..engine import Registry, load_paths
        from ..errors import LoadError

        paths = workflow_paths(config.rootpath)
        try:
            found = load_paths(paths) if paths else Registry()
        except LoadError as exc:
            found = exc
        config.stash[_REGISTRY] = found
    if isinstance(found, BaseException):
        raise found
    return found
