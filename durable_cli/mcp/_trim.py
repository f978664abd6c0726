"""Cutting a run's JSON to a size an agent can read, saying what was cut and how to get it all.

A run's outputs, event data and tracebacks can be megabytes, and a loop can make thousands of
steps; an agent's context holds far less. Long strings keep their head and their tail (a
traceback's last lines name the error), long outputs become a JSON preview, and a run with very
many steps keeps its first and last ones.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["HOW_TO_GET_ALL", "MAX_CHARS", "MAX_STEPS", "trim_run"]

MAX_CHARS = 2000  # one value's characters
MAX_STEPS = 60  # steps shown of a run with more (the first and the last halves)
HOW_TO_GET_ALL = "call get_run again with full=true, or export_run, for the whole run"
_VALUES = frozenset({"output", "data"})  # user data: shown as a JSON preview when too long


def trim_run(run: dict[str, Any]) -> dict[str, Any]:
    """`run` (a `show --json` object) with long values cut; a `truncated` note lists the cuts."""
    cuts: list[str] = []
    trimmed = _walk(run, "", cuts)
    steps = trimmed.get("steps")
    if isinstance(steps, list) and len(steps) > MAX_STEPS:
        half = MAX_STEPS // 2
        cuts.append(f"steps[{half}:{len(steps) - half}] ({len(steps) - MAX_STEPS} steps)")
        trimmed["steps"] = steps[:half] + steps[-half:]
    if cuts:
        trimmed["truncated"] = {"cut": cuts, "how_to_get_all": HOW_TO_GET_ALL}
    return trimmed


def _walk(value: Any, path: str, cuts: list[str]) -> Any:
    if isinstance(value, str):
        return _cut(value, path, cuts) if len(value) > MAX_CHARS else value
    key = path.rpartition(".")[2]
    if isinstance(value, dict | list) and key in _VALUES:
        text = json.dumps(value, ensure_ascii=False)
        if len(text) > MAX_CHARS:
            return _cut(text, path, cuts, of=" of JSON")
    if isinstance(value, dict):
        return {k: _walk(v, f"{path}.{k}" if path else k, cuts) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, f"{path}[{i}]", cuts) for i, v in enumerate(value)]
    return value


def _cut(text: str, path: str, cuts: list[str], of: str = "") -> str:
    head, tail = MAX_CHARS // 3, MAX_CHARS - MAX_CHARS // 3
    left_out = len(text) - head - tail
    cuts.append(f"{path} ({len(text)} characters{of})")
    return f"{text[:head]}\n…[{left_out} characters cut]…\n{text[-tail:]}"
