"""The plugin puts the folders of `[tool.durable] paths` on sys.path, as `durable dev` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from durable_cli.testing._paths import workflow_folders

pytest_plugins = ["pytester"]

NO_SNAPSHOTS = ("-p", "no:cacheprovider", "-p", "no:textual-snapshot", "-p", "no:syrupy")


def project(root: Path, durable_table: str) -> Path:
    """A project with flows/a.py, jobs/b.py and the given `[tool.durable]` table."""
    for name in ("flows/a.py", "jobs/b.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("VALUE = 1\n")
    (root / "pyproject.toml").write_text(f"[tool.durable]\n{durable_table}\n")
    return root


def test_a_file_gives_its_folder_and_a_folder_itself(tmp_path: Path) -> None:
    root = project(tmp_path, 'paths = ["flows/a.py", "jobs", "flows/", "missing.py"]')

    assert workflow_folders(root) == [str(root / "flows"), str(root / "jobs")]


def test_a_single_string_is_one_path(tmp_path: Path) -> None:
    assert workflow_folders(project(tmp_path, 'paths = "jobs"')) == [str(tmp_path / "jobs")]


@pytest.mark.parametrize(
    "table",
    ["paths = 3", "paths = [1, '']", "other = 1", "paths = [", "durable = 'x'"],
)
def test_no_or_malformed_settings_give_no_folders(tmp_path: Path, table: str) -> None:
    assert workflow_folders(project(tmp_path, table)) == []


def test_no_pyproject_gives_no_folders(tmp_path: Path) -> None:
    assert workflow_folders(tmp_path) == []


def test_tests_and_conftest_import_workflows_by_name(pytester: pytest.Pytester) -> None:
    project(pytester.path, 'paths = ["flows/a.py", "jobs/"]')
    pytester.makeconftest("import a  # a conftest is imported before any test module\n")
    pytester.makepyfile(test_user="import a, b\n\ndef test_it():\n    assert a.VALUE == b.VALUE\n")

    outcome = pytester.runpytest_subprocess(*NO_SNAPSHOTS)

    outcome.assert_outcomes(passed=1)


def test_a_bad_setting_does_not_stop_the_session(pytester: pytest.Pytester) -> None:
    project(pytester.path, "paths = 3")
    pytester.makepyfile(test_user="def test_it():\n    pass\n")

    pytester.runpytest_subprocess(*NO_SNAPSHOTS).assert_outcomes(passed=1)
