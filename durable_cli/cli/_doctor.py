"""`durable doctor`'s output: findings rendered for a terminal, and the exit code they make."""

from __future__ import annotations

from ..store import Finding

__all__ = ["exit_code", "format_findings"]

_MARKS = {"ok": "ok  ", "info": "info", "warning": "warn", "error": "FAIL"}


def exit_code(findings: list[Finding]) -> int:
    """0 when no finding is an error (warnings allowed), 1 otherwise."""
    return 1 if any(f.level == "error" for f in findings) else 0


def format_findings(findings: list[Finding]) -> list[str]:
    """One line per finding (`FAIL code: message [path]`), a `  -> hint` line under it if any."""
    lines = []
    for f in findings:
        where = f" [{f.path}]" if f.path else ""
        lines.append(f"{_MARKS.get(f.level, f.level)}  {f.code}: {f.message}{where}")
        if f.hint:
            lines.append(f"      -> {f.hint}")
    return lines
