"""`durable doctor`'s findings for a state dir: what it holds and what is wrong, changing nothing.

`diagnose(path)` returns findings (level ok/info/warning/error, a stable code, a one-line
message, the file concerned, and what to do), worst first within each part; the checks
themselves are `_check`'s. A database's are `_postgres/_diagnose.py`'s; the CLI renders both.
"""

from __future__ import annotations

import os

from ._check import Finding, count_statuses, inspect_state

__all__ = ["Finding", "diagnose", "settle"]

_WAITING = ("queued", "running", "retrying", "sleeping", "waiting")


def diagnose(path: str) -> list[Finding]:
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
    return settle(found, path)


def settle(found: list[Finding], where: str) -> list[Finding]:
    """`found`, closed by a `healthy` finding when nothing in it is a warning or an error."""
    if not any(f.level in ("warning", "error") for f in found):
        found.append(Finding("ok", "healthy", "nothing wrong found", where))
    return found
