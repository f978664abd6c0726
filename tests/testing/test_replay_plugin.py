"""`pytest --durable-replay DIR`: a test per exported run, in a pytest of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from replay_support import exported

from durable_cli.engine import load_file

pytest_plugins = ["pytester"]

NO_SNAPSHOTS = ("-p", "no:cacheprovider", "-p", "no:textual-snapshot", "-p", "no:syrupy")

FLOWS = """
import durable_cli as durable

@durable.function(id="greet", trigger="greet")
def greet(event, step):
    name = step.run("name", lambda: event.data["name"])
    step.sleep("pause", 5)
    return step.run("hello", lambda: "hello " + name)

@durable.function(id="count", trigger="count")
def count(event, step):
    return [step.run("one", lambda: 1), step.run("two", lambda: 2)]
"""


def _project(root: Path) -> None:
    """A project whose two functions each ran once, their runs exported into histories/."""
    (root / "pyproject.toml").write_text('[tool.durable]\npaths = ["flows/"]\n')
    (root / "flows").mkdir()
    (root / "flows" / "flows.py").write_text(FLOWS)
    _, functions = load_file(str(root / "flows" / "flows.py"))
    by_id = {fn.id: fn for fn in functions}
    (root / "histories").mkdir()
    for fn_id, data in (("greet", {"name": "ada"}), ("count", None)):
        doc = exported(by_id[fn_id], data)
        (root / "histories" / f"{fn_id}.json").write_text(json.dumps(doc))


def test_each_exported_run_is_a_passing_test_on_unchanged_code(pytester: pytest.Pytester) -> None:
    _project(pytester.path)

    outcome = pytester.runpytest_subprocess("--durable-replay", "histories", "-v", *NO_SNAPSHOTS)

    outcome.assert_outcomes(passed=2)
    outcome.stdout.fnmatch_lines(["*histories/count.json::replay PASSED*"])


def test_an_incompatible_edit_fails_with_both_step_orders(pytester: pytest.Pytester) -> None:
    _project(pytester.path)
    flows = pytester.path / "flows" / "flows.py"
    flows.write_text(
        FLOWS.replace('step.run("one", lambda: 1), step.run("two", lambda: 2)', "").replace(
            "return [", 'return [step.run("two", lambda: 2), step.run("one", lambda: 1)'
        )
    )

    outcome = pytester.runpytest_subprocess("--durable-replay", "histories", *NO_SNAPSHOTS)

    outcome.assert_outcomes(passed=1, failed=1)
    outcome.stdout.fnmatch_lines(
        [
            "*count: nondeterminism at step 1: the history recorded 'one' (run),"
            " the code requested 'two' (run)",
            "*step  recorded   requested",
            "*   1  one (run)  two (run)  <- differs",
            "*   2  two (run)",
            "FAILED histories/count.json::replay*",
        ]
    )


def test_a_history_of_a_function_no_longer_there_fails_by_name(pytester: pytest.Pytester) -> None:
    _project(pytester.path)
    (pytester.path / "flows" / "flows.py").write_text(FLOWS.replace('id="greet"', 'id="hi"'))

    outcome = pytester.runpytest_subprocess("--durable-replay", "histories", *NO_SNAPSHOTS)

    outcome.assert_outcomes(passed=1, failed=1)
    outcome.stdout.fnmatch_lines(
        ["no function 'greet' in the workflow files of [[]tool.durable] paths (found: count, hi)"]
    )


def test_a_missing_folder_is_a_usage_error(pytester: pytest.Pytester) -> None:
    outcome = pytester.runpytest_subprocess("--durable-replay", "nowhere", *NO_SNAPSHOTS)

    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*--durable-replay: no folder nowhere*"])


def test_json_files_elsewhere_are_not_tests(pytester: pytest.Pytester) -> None:
    _project(pytester.path)
    (pytester.path / "data.json").write_text("{}")
    pytester.makepyfile(test_plain="def test_it():\n    pass\n")

    outcome = pytester.runpytest_subprocess(*NO_SNAPSHOTS)

    outcome.assert_outcomes(passed=1)
