"""The testing examples of docs/testing.md and README.md, run as a user runs them.

Each document's ```python blocks are one test file in a fresh project laid out like this
repository (the example workflow under examples/, named by `[tool.durable] paths`), run by the
`pytest` command from the project folder (with `--durable-replay tests/histories`, where a run
of the example, exported, waits to be replayed as docs/testing.md shows): a block that doesn't
work as printed fails here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import document_pipeline  # examples/, on sys.path through this repository's [tool.durable] paths
import pytest
from replay_support import exported

REPO = Path(__file__).resolve().parents[2]
# a document, and the heading of its part about testing (None: all of it)
DOCS = {
    "testing": (REPO / "docs" / "testing.md", None),
    "readme": (REPO / "README.md", "## Testing your workflows"),
}
PYTEST = Path(sys.executable).with_name("pytest")


def python_blocks(markdown: Path, heading: str | None) -> list[str]:
    """The ```python code blocks of a markdown file (under `heading` only, if given), in order."""
    text = markdown.read_text()
    if heading is not None:
        assert heading in text.splitlines(), f"{markdown.name} has no {heading!r}"
        text = text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.M | re.S)


def test_names(code: str) -> list[str]:
    """The test functions a block of code defines."""
    return re.findall(r"^def (test_\w+)\(", code, flags=re.M)


test_names.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.mark.parametrize("durable_paths", ['["examples/document_pipeline.py"]', '["examples/"]'])
def test_the_documented_tests_pass_as_printed(tmp_path: Path, durable_paths: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.durable]\npaths = {durable_paths}\n")
    (tmp_path / "examples").mkdir()
    shutil.copy(REPO / "examples" / "document_pipeline.py", tmp_path / "examples")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "histories").mkdir()
    upload = {"filename": "quarterly-report.pdf", "document_id": "doc-1", "user_id": "user-1"}
    history = exported(document_pipeline.process_document, upload)
    (tmp_path / "tests" / "histories" / "quarterly-report.json").write_text(json.dumps(history))
    expected: list[str] = ["tests/histories/quarterly-report.json::replay"]
    for name, (doc, heading) in DOCS.items():
        code = "\n\n".join(python_blocks(doc, heading))
        assert test_names(code), f"{doc.name} has no test to run"
        (tmp_path / "tests" / f"test_{name}_doc.py").write_text(code)
        expected += [f"tests/test_{name}_doc.py::{test}" for test in test_names(code)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}

    done = subprocess.run(
        [str(PYTEST), "-p", "no:cacheprovider", "-rA", "--durable-replay", "tests/histories"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    # a parametrized test passes once per case: its name without the case's id
    passed = [
        re.sub(r"\[.*\]$", "", test)
        for test in re.findall(r"^PASSED (\S+)", done.stdout, flags=re.M)
    ]
    assert sorted(passed) == sorted(expected), done.stdout
