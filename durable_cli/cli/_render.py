"""Human output: rich tables for functions, runs and one run. Status words are coloured."""

from __future__ import annotations

import json
import time
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._headless import format_duration

__all__ = ["functions_table", "run_view", "runs_table"]

STATUS_STYLE = {
    "completed": "green",
    "failed": "red",
    "retrying": "yellow",
    "running": "cyan",
    "queued": "white",
    "cancelled": "magenta",
    "paused": "blue",
    "sleeping": "blue",
    "waiting": "blue",
}
_SHORT = 60


def _console() -> Console:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, 200)  # piped: don't cut ids to fit 80 columns
    return console


def _status(status: str | None) -> Text:
    return Text(status or "", style=STATUS_STYLE.get(status or "", ""))


def _when(ms: int | None) -> str:
    if not ms:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def _span(start: int | None, end: int | None) -> str:
    return format_duration(end - start) if start and end else ""


def _short(value: Any, width: int = _SHORT) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _error(error: dict[str, Any] | None) -> str:
    if not error:
        return ""
    cause = error.get("cause") or {}
    kind = cause.get("type") or error.get("type", "Error")
    return f"{kind}: {cause.get('message') or error.get('message', '')}"


def functions_table(rows: list[dict[str, Any]]) -> None:
    """The functions found, one per row."""
    console = _console()
    if not rows:
        console.print("no functions found")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("function", "triggers", "retries", "file"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], ", ".join(row["triggers"]), str(row["retries"]), row["file"] or "")
    console.print(table)


def runs_table(rows: list[dict[str, Any]]) -> None:
    """Runs, newest first."""
    console = _console()
    if not rows:
        console.print("no runs yet")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("run", "function", "status", "event", "created", "duration"):
        table.add_column(column, no_wrap=column != "event")
    for run in rows:
        table.add_row(
            run["id"],
            run["function"],
            _status(run["status"]),
            run["event"].get("name", ""),
            _when(run["created_at"]),
            _span(run["started_at"], run["ended_at"]),
        )
    console.print(table)


def run_view(run: dict[str, Any]) -> None:
    """One run: what it ran for, how it ended, and its steps."""
    console = _console()
    head = Text.assemble((run["id"], "bold"), "  ", run["function"], "  ", _status(run["status"]))
    took = _span(run["started_at"], run["ended_at"])
    if took:
        head.append(f"  {took}")
    console.print(head)
    event = run["event"]
    facts = Table.grid(padding=(0, 2))
    facts.add_row("event", f"{event.get('name')}  {event.get('id')}  {_when(event.get('ts'))}")
    facts.add_row("data", _short(event.get("data"), 100))
    if run.get("replay_of"):
        facts.add_row("replay of", run["replay_of"])
    if run.get("reason"):
        facts.add_row("reason", run["reason"])
    if run["status"] == "completed":
        facts.add_row("output", _short(run["output"], 100))
    if run.get("error"):
        facts.add_row("error", Text(_short(_error(run["error"]), 100), style="red"))
    console.print(facts)
    if not run["steps"]:
        console.print("no steps yet")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("step", "status", "attempts", "duration", "output / error"):
        table.add_column(column, no_wrap=column != "output / error")
    for step in run["steps"]:
        if step["error"] and step["status"] != "completed":
            result = Text(_short(_error(step["error"])), style="red")
        else:
            result = Text(_short(step["output"]))
        if step.get("copied_from"):
            result.append(" (copied)", style="dim")
        table.add_row(
            step["id"],
            _status(step["status"]),
            str(step["attempts"]),
            _span(step["started_at"], step["ended_at"]),
            result,
        )
    console.print(table)
