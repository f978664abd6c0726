"""`durable send` stays light: no textual (nor typer) on its everyday path."""

from __future__ import annotations

import re
import sys

from cli_support import DURABLE


def _imported(project, *args: str) -> set[str]:
    done = project.cli(*args, PYTHONPROFILEIMPORTTIME="1")
    assert done.returncode == 0, done.stderr
    return set(re.findall(r"\|\s+([\w.]+)$", done.stderr, re.MULTILINE))


def test_send_imports_neither_textual_nor_typer(project):
    modules = _imported(project, "send", "api/document.uploaded", "--data", '{"a": 1}')
    assert "durable_cli.cli._send" in modules  # the probe does see our imports
    assert not {m for m in modules if m.split(".")[0] in ("textual", "typer", "asyncio")}


def test_send_help_goes_through_typer_and_still_not_textual(project):
    modules = _imported(project, "send", "--help")
    assert "typer" in modules
    assert not {m for m in modules if m.split(".")[0] == "textual"}


def test_the_console_script_is_installed():
    assert DURABLE.exists(), f"`durable` should sit beside {sys.executable}"
