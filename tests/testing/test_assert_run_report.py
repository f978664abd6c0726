"""A failed `assert_run` shows its mismatches first, not the helper's own source."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import durable_cli
from durable_cli.testing import assert_run, run_function

@durable_cli.function(id="one-step", trigger="demo/go")
def one_step(event, step):
    return step.run("only-step", lambda: 1)

def test_direct():
    assert_run(run_function(one_step), "failed", steps={"only-step": {"attempts": 2}})

def test_fixture(durable):
    durable(one_step)
    durable.assert_run("failed", steps={"only-step": {"attempts": 2}})
"""

# Lines of the helpers' bodies: none may appear in a user's failure report.
HELPER_SOURCE = (
    "problems: list[str] = []",
    "def check(label",
    "raise AssertionError(",
    "_asserts.py",
    "assert_run(result or self.last",
    "plugin.py",
)


def failure_sections(text: str) -> dict[str, list[str]]:
    """Each failed test's part of the report (its `___ name ___` header to the next), by name."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        header = re.fullmatch(r"_{3,} (\S+) _{3,}", line)
        if header:
            current = sections.setdefault(header.group(1), [])
        elif re.match(r"={3,} ", line):
            current = None
        elif current is not None:
            current.append(line)
    return sections


def test_the_mismatch_list_comes_first_and_the_helpers_source_is_hidden(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_user=USER_TESTS)

    outcome = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:textual-snapshot", "-p", "no:syrupy"
    )  # fmt: skip

    outcome.assert_outcomes(failed=2)
    sections = failure_sections(outcome.stdout.str())
    assert set(sections) == {"test_direct", "test_fixture"}
    for name, lines in sections.items():
        report = "\n".join(lines)
        for source in HELPER_SOURCE:
            assert source not in report, f"{name}: helper source {source!r} in:\n{report}"
        # the user's own call is shown, then the mismatches straight away
        status = next(i for i, line in enumerate(lines) if "status: expected 'failed'" in line)
        assert status < 12, f"{name}: mismatch on line {status} of:\n{report}"
        assert lines[status + 1].endswith("steps['only-step'].attempts: expected 2, got 1")
        assert any(line.startswith(">") and "assert_run(" in line for line in lines[:status])
