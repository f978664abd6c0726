"""The public surface is pinned, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import durable_cli


def test_public_exports_are_pinned():
    assert sorted(durable_cli.__all__) == sorted(
        [
            "AsyncStep",
            "DurableError",
            "Event",
            "Function",
            "InjectedFailure",
            "NonRetriableError",
            "NondeterminismError",
            "OutputNotStorableError",
            "RetryAfterError",
            "Step",
            "StepError",
            "__version__",
            "function",
            "send",
        ]
    )
    for name in durable_cli.__all__:
        assert hasattr(durable_cli, name), name


def test_control_flow_signals_are_base_exceptions():
    from durable_cli.errors import ControlFlow, RunCancelled, Suspend

    assert not issubclass(ControlFlow, Exception)
    assert issubclass(Suspend, ControlFlow) and issubclass(RunCancelled, ControlFlow)
    assert durable_cli.NonRetriableError.retriable is False
    assert durable_cli.RetryAfterError.retriable is True


def test_import_does_not_pull_in_textual_or_typer():
    code = (
        "import sys, durable_cli, durable_cli.engine; durable_cli.engine.actions;"
        "bad = [m for m in ('textual', 'typer', 'rich', 'asyncio') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
