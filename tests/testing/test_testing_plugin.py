"""The pytest plugin: the `durable` fixture, timelines in failure reports, and `assert_run`."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

import durable_cli
from durable_cli.testing import assert_run, run_function

pytest_plugins = ["pytester"]

INNER = """
import durable_cli
from durable_cli.testing import run_function

@durable_cli.function(id="inner", retries=1, backoff=7)
def inner(event, step):
    return step.run("only-step", lambda: 1)

def test_fixture_run_fails(durable):
    result = durable(inner, fail={"only-step": 2})
    assert result.status == "completed"

def test_direct_run_fails():
    result = run_function(inner, fail={"only-step": [ValueError("bad input")]})
    assert result.output == 2

def test_passes(durable):
    durable.run(inner)
    durable.assert_run("completed", output=1, steps={"only-step": {"calls": 1}})
    assert durable.last is durable.results[0]
"""


@durable_cli.function(id="tiny", retries=1, backoff=1)
def tiny(event: durable_cli.Event, step: durable_cli.Step) -> int:
    return step.run("step-a", lambda: 3)


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    names = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert names.get("durable") == "durable_cli.testing.plugin"


def test_loading_the_plugin_does_not_import_the_engine() -> None:
    # pytest loads the plugin in every session of every project that has durable installed
    code = (
        "import sys, durable_cli.testing.plugin;"
        "print([m for m in ('durable_cli.engine._engine', 'diskcache', 'textual', 'typer')"
        " if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_failing_tests_show_their_runs_timelines(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER)

    outcome = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:textual-snapshot", "-p", "no:syrupy", "-rP"
    )  # fmt: skip

    outcome.assert_outcomes(passed=1, failed=2)
    text = outcome.stdout.str()
    assert text.count("durable runs") == 2  # the passing test gets no timeline section
    assert "of 'inner': failed" in text
    assert "only-step  #2  failed: InjectedFailure: injected failure of 'only-step'  [fail]" in text
    assert "only-step  #2  completed -> 1" in text
    assert "#1  error, retried: ValueError: bad input  [fail]" in text


def test_the_fixture_remembers_runs(durable: object) -> None:
    result = durable(tiny)  # type: ignore[operator]

    assert result.output == 3
    assert durable.last is result  # type: ignore[attr-defined]
    durable.assert_run("completed", steps={"step-a": {"attempts": 1}})  # type: ignore[attr-defined]


def test_assert_run_lists_every_mismatch_and_the_timeline() -> None:
    result = run_function(tiny, fail={"step-a": 1})

    with pytest.raises(AssertionError) as caught:
        assert_run(
            result,
            "failed",
            output=4,
            error="boom",
            step_ids=["step-a", "step-b"],
            steps={"step-a": {"attempts": 1, "calls": 1}, "step-z": {"status": "completed"}},
        )

    message = str(caught.value)
    assert "status: expected 'failed', got 'completed'" in message
    assert "output: expected 4, got 3" in message
    assert "error: expected one containing 'boom', got none" in message
    assert "step_ids: expected ['step-a', 'step-b'], got ['step-a']" in message
    assert "steps['step-a'].attempts: expected 1, got 2" in message
    assert "steps['step-a'].calls" not in message
    assert "steps['step-z']: no such step ran" in message
    assert "step-a  #1  error, retried: InjectedFailure" in message


def test_assert_run_passes_quietly_and_refuses_unknown_fields() -> None:
    result = run_function(tiny)

    assert_run(result, "completed", output=3, step_ids=["step-a"], steps={"step-a": {"calls": 1}})
    with pytest.raises(TypeError, match="unknown fields"):
        assert_run(result, steps={"step-a": {"retries": 1}})
