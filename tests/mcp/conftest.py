"""Fixtures for the MCP tests: a project folder with the test workflows, and the SDK itself."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp", reason="the MCP SDK (extra `mcp`) is not installed")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))  # cli_support

from cli_support import WORKFLOWS, Project

HERE = Path(__file__).resolve().parent


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """A project whose pyproject.toml lists tests/mcp/workflows/steps.py; runners killed after."""
    proj = Project(tmp_path)
    shutil.copy(WORKFLOWS / "calls.py", tmp_path / "calls.py")
    shutil.copy(HERE / "workflows" / "steps.py", tmp_path / "steps.py")
    proj.configure("steps.py")
    yield proj
    proj.kill_runners()
