"""The pytest plugin (entry point `pytest11`): the `durable` fixture, timelines on failure, and
replay tests.

When a test fails, every run it made with `run_function` (or the fixture) is printed as a
timeline in a "durable runs" section of the failure report. The folders of `[tool.durable] paths`
are on sys.path for the session, so tests import workflow files by name. `--durable-replay DIR`
makes a test of every exported run (`*.json`) in DIR (`_replay_items.py`).
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from ..sdk import Function
from . import _observe
from ._asserts import assert_run
from ._paths import workflow_folders
from ._replay_items import ReplayFile, replay_dirs
from ._results import RunResult

__all__ = ["DurableFixture", "durable"]

_RUNS = pytest.StashKey[list[RunResult]]()
_ADDED_PATHS = pytest.StashKey[list[str]]()
_REPLAY_DIRS = pytest.StashKey[list[Path]]()


class DurableFixture:
    """`durable(fn, data, fail=..., stub=...)` runs like `run_function` and remembers the run."""

    def __init__(self) -> None:
        """Start with no runs."""
        self.results: list[RunResult] = []

    def run(
        self,
        fn: Function,
        data: Mapping[str, Any] | None = None,
        *,
        functions: Iterable[Function] = (),
        **options: Any,
    ) -> RunResult:
        """Run `fn` to its end in virtual time (see `durable_cli.testing.run_function`)."""
        from ._runner import run_function  # here: pytest's startup must not import the engine

        result = run_function(fn, data, functions=functions, **options)
        self.results.append(result)
        return result

    __call__ = run

    @property
    def last(self) -> RunResult:
        """The most recent run."""
        if not self.results:
            raise LookupError("the durable fixture has not run anything yet")
        return self.results[-1]

    def assert_run(
        self, status: str | None = None, *, result: RunResult | None = None, **expected: Any
    ) -> None:
        """`durable_cli.testing.assert_run` on `result` (default: the last run)."""
        __tracebackhide__ = True  # the report shows the user's call, then the mismatches
        assert_run(result or self.last, status, **expected)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Put the `[tool.durable] paths` folders first on sys.path, as `durable dev` does.

    Here rather than in pytest_configure so that conftest.py files can import workflows too.
    """
    added = [f for f in workflow_folders(early_config.rootpath) if f not in sys.path]
    sys.path[:0] = added
    early_config.stash[_ADDED_PATHS] = added


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--durable-replay DIR`: a test per exported run in DIR."""
    parser.getgroup("durable").addoption(
        "--durable-replay",
        action="append",
        metavar="DIR",
        dest="durable_replay",
        help="replay every exported run (*.json, from `durable export`) in DIR against the "
        "current code of its function: one test each (may be given more than once)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Check the `--durable-replay` folders before anything is collected."""
    config.stash[_REPLAY_DIRS] = replay_dirs(config)


@pytest.hookimpl(tryfirst=True)  # before -k and -m pick the tests to run
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add a test per exported run under the `--durable-replay` folders, whatever else the
    session collects (the folders need not be among pytest's paths)."""
    seen = {item.nodeid for item in items}
    for folder in config.stash.get(_REPLAY_DIRS, []):
        for path in sorted(folder.rglob("*.json")):
            collector = ReplayFile.from_parent(session, path=path)
            found = [item for item in collector.collect() if item.nodeid not in seen]
            seen.update(item.nodeid for item in found)
            items.extend(found)
            # reported as collected, so "collected N items" counts them
            report = pytest.CollectReport(collector.nodeid, "passed", None, found)
            session.ihook.pytest_collectreport(report=report)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Take the folders added at start-up off sys.path again (a session run in-process)."""
    for folder in config.stash.get(_ADDED_PATHS, []):
        if folder in sys.path:
            sys.path.remove(folder)


@pytest.fixture
def durable() -> DurableFixture:
    """Run durable functions in virtual time and assert on their steps."""
    return DurableFixture()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Collect every run the test makes, so a failure can show them."""
    seen: list[RunResult] = []
    item.stash[_RUNS] = seen
    _observe.observers.append(seen.append)
    try:
        yield
    finally:
        _observe.observers.remove(seen.append)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[Any]:
    """On a failed test, add each of its runs' timelines to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    runs = item.stash.get(_RUNS, [])
    if runs:
        report.sections.append(("durable runs", "\n\n".join(r.timeline() for r in runs)))
