"""The typer app: every command registered, and the one place errors become exit codes."""

from __future__ import annotations

import sys

import typer

from . import _cmd_control, _cmd_dev, _cmd_history, _cmd_inspect, _cmd_mcp

try:  # typer ships its own copy of click from 0.2x on; older releases use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - depends on the installed typer
    from click.exceptions import ClickException  # type: ignore[no-redef]

__all__ = ["app", "run"]

app = typer.Typer(
    name="durable",
    help="Local-first durable execution for Python: steps that retry alone, state in a folder.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

for module in (_cmd_dev, _cmd_control, _cmd_history, _cmd_inspect, _cmd_mcp):
    for name, command in module.COMMANDS.items():
        app.command(name)(command)


def run(argv: list[str]) -> int:
    """Run one command line through the typer app; returns the exit code."""
    argv = argv or ["--help"]
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="durable", standalone_mode=False)
    except ClickException as exc:  # a usage error: one line, with where to look
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "durable"
        message = " ".join(exc.format_message().splitlines())
        print(f"error: {message} (see `{where} --help`)", file=sys.stderr)
        return 2
    except typer.Abort:
        return 130
    return result if isinstance(result, int) else 0
