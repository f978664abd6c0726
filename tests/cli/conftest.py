"""Fixtures for the CLI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """A fresh project folder; every runner it started is killed at the end."""
    proj = Project(tmp_path)
    yield proj
    proj.kill_runners()
