"""`import durable_cli` loads the SDK's front and the errors, nothing below them: an application
that only sends events (or only declares functions) pays for neither the engine nor a store."""

from __future__ import annotations

import json
import subprocess
import sys

_HEAVY = ("durable_cli.engine", "durable_cli.store", "diskcache", "typer", "textual", "psycopg")


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in _HEAVY)]


def _loaded(code: str) -> list[str]:
    probe = f"import sys; {code}; print(__import__('json').dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_importing_durable_cli_loads_no_engine_store_or_ui():
    modules = _loaded("import durable_cli")
    assert "durable_cli.errors" in modules  # the probe does see our modules
    assert _heavy(modules) == []


def test_declaring_a_function_loads_the_sdk_and_still_no_engine_or_store():
    modules = _loaded(
        "import durable_cli as d; d.function(id='f', trigger='t/go')(lambda event, step: None)"
    )
    assert "durable_cli.sdk" in modules
    assert _heavy(modules) == []
