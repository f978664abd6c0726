"""`durable doctor`: check a state dir and explain what it finds, changing nothing.

`doctor(path)` returns findings (level ok/info/warning/error, a stable code, a one-line
message, the file concerned, and what to do); `format_findings` renders them for a terminal
and `exit_code` says how the command should exit: 0 when nothing is wrong (warnings allowed),
1 when something is.
"""

from __future__ import annotations

import os

from ..store._check import Finding, count_statuses, inspect_state

__all__ = ["Finding", "doctor", "exit_code", "format_findings"]

_WAITING = ("queued", "running", "retrying", "sleeping", "waiting")


def doctor(path: str) -> list[Finding]:
    """Everything worth knowing about the state dir at `path`, worst first within each part."""
    path = os.path.abspath(path)
    found, con = inspect_state(path)
    if con is not None:
        try:
            statuses, queued = count_statuses(con)
        finally:
            con.close()
        runs = sum(statuses.values())
        by_status = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"
        found.append(
            Finding("info", "contents", f"{runs} run(s): {by_status}; {queued} event(s) queued")
        )
        runner_up = any(f.code == "runner" and "is up" in f.message for f in found)
        pending = sum(statuses.get(s, 0) for s in _WAITING)
        if (pending or queued) and not runner_up:
            found.append(
                Finding(
                    "info",
                    "unfinished",
                    f"{pending} unfinished run(s) and {queued} queued event(s) wait for a runner;"
                    " `durable dev` resumes them (a step that was in flight runs again)",
                    path,
                )
            )
    if not any(f.level in ("warning", "error") for f in found):
        found.append(Finding("ok", "healthy", "nothing wrong found", path))
    return found


def exit_code(findings: list[Finding]) -> int:
    """0 when no finding is an error, 1 otherwise."""
    return 1 if any(f.level == "error" for f in findings) else 0


_MARKS = {"ok": "ok  ", "info": "info", "warning": "warn", "error": "FAIL"}


def format_findings(findings: list[Finding]) -> list[str]:
    """One line per finding (`FAIL code: message [path]`), a `  -> hint` line under it if any."""
    lines = []
    for f in findings:
        where = f" [{f.path}]" if f.path else ""
        lines.append(f"{_MARKS.get(f.level, f.level)}  {f.code}: {f.message}{where}")
        if f.hint:
            lines.append(f"      -> {f.hint}")
    return lines
