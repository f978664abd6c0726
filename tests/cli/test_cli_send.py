"""`durable send` stays light: no textual (nor typer) on its everyday path, and once a journal
exists, no diskcache or typing either; what it writes there, the store reads as its own."""

from __future__ import annotations

import json
import re
import sys

from cli_support import DURABLE

from durable_cli.store import open_store


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


def _send(project, *args: str) -> str:
    done = project.cli("send", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_send_to_an_existing_journal_imports_no_diskcache_nor_typing(project):
    _send(project, "api/document.uploaded", "--data", '{"a": 1}')  # creates the journal
    modules = _imported(project, "send", "api/document.uploaded", "--data", '{"a": 2}')
    assert "durable_cli.store._send" in modules
    heavy = {m for m in modules if m.split(".")[0] in ("diskcache", "typing", "dataclasses")}
    assert not heavy


def test_the_store_reads_what_the_fast_path_wrote(project):
    first = _send(project, "api/document.uploaded", "--data", '{"n": 1}')
    second = _send(project, "api/document.uploaded", "--data", '{"n": 2, "text": "é"}')
    again = _send(project, "api/document.uploaded", "--data", '{"n": 3}', "--id", second)
    assert again == second  # an id that exists already: no second event
    store = open_store(str(project.state), create=False)
    try:
        assert store.queued_count() == 2
        event = store.get_event(second)
        assert event is not None and event["data"] == {"n": 2, "text": "é"}
        assert store.get_event(first)["name"] == "api/document.uploaded"
    finally:
        store.close()


def test_an_event_too_big_for_its_row_goes_through_the_store(project):
    _send(project, "api/document.uploaded", "--data", "{}")
    payload = {"blob": "x" * 200_000}  # over the 64 KiB a row holds, under the 512 KiB cap
    (project.root / "big.json").write_text(json.dumps(payload))
    event_id = _send(project, "api/document.uploaded", "--data", "big.json")
    store = open_store(str(project.state), create=False)
    try:
        assert store.get_event(event_id)["data"] == payload
        assert store.queued_count() == 2
    finally:
        store.close()
