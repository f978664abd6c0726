"""The runner, replay driver, retries, timers, loader and the queries the CLI and TUI share."""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing is a slow import for `durable send`; annotations are strings
if TYPE_CHECKING:
    from typing import Any

    from ..store import (
        ACTIVE_RUN_STATUSES,
        RUN_STATUSES,
        STEP_STATUSES,
        TERMINAL_RUN_STATUSES,
        TIMER_STATUSES,
        PendingFailure,
        RunRecord,
        Store,
        open_state,
        open_store,
        runner_pid,
    )
    from . import _actions as actions
    from . import _bulk as bulk
    from ._backoff import MAX_DELAY_S, retry_delay_s
    from ._clock import Clock, VirtualClock, WallClock
    from ._cron import CRON_EVENT, next_tick
    from ._describe import describe_error
    from ._engine import Engine
    from ._events import make_event
    from ._export import export_run
    from ._exported import ExportedRun, load_export, read_document, read_export
    from ._import import Imported, check_import, import_run
    from ._invocation import Invocation, Verdict
    from ._lease import DEFAULT_LEASE_S
    from ._listener import Change, Listener
    from ._loader import discover_files, load_file, load_paths
    from ._queries import (
        active_run_ids,
        awaited,
        check_run_status,
        function_rows,
        last_event_data,
        latest_event,
        list_runs,
        pending_failures,
        run_counts,
        run_detail,
        run_page,
        run_steps,
        run_summary,
        runs_by_id,
        step_modes,
    )
    from ._registry import Registry
    from ._reload import Reloader

# Loaded on first use so `durable send` (which needs only `actions`) never imports asyncio.
_WHERE = {
    "actions": ("._actions", None),
    "bulk": ("._bulk", None),
    "MAX_DELAY_S": ("._backoff", "MAX_DELAY_S"),
    "retry_delay_s": ("._backoff", "retry_delay_s"),
    "CRON_EVENT": ("._cron", "CRON_EVENT"),
    "next_tick": ("._cron", "next_tick"),
    "Clock": ("._clock", "Clock"),
    "VirtualClock": ("._clock", "VirtualClock"),
    "WallClock": ("._clock", "WallClock"),
    "describe_error": ("._describe", "describe_error"),
    "make_event": ("._events", "make_event"),  # `durable send`'s: loads no store records
    "Engine": ("._engine", "Engine"),
    "Invocation": ("._invocation", "Invocation"),
    "Verdict": ("._invocation", "Verdict"),
    "DEFAULT_LEASE_S": ("._lease", "DEFAULT_LEASE_S"),
    "Change": ("._listener", "Change"),
    "Listener": ("._listener", "Listener"),
    "discover_files": ("._loader", "discover_files"),
    "load_file": ("._loader", "load_file"),
    "load_paths": ("._loader", "load_paths"),
    "export_run": ("._export", "export_run"),
    "Imported": ("._import", "Imported"),
    "import_run": ("._import", "import_run"),
    "check_import": ("._import", "check_import"),
    "read_document": ("._exported", "read_document"),
    "ExportedRun": ("._exported", "ExportedRun"),
    "load_export": ("._exported", "load_export"),
    "read_export": ("._exported", "read_export"),
    "check_run_status": ("._queries", "check_run_status"),
    "function_rows": ("._queries", "function_rows"),
    "list_runs": ("._queries", "list_runs"),
    "pending_failures": ("._queries", "pending_failures"),
    "run_steps": ("._queries", "run_steps"),
    "run_detail": ("._queries", "run_detail"),
    "run_summary": ("._queries", "run_summary"),
    "active_run_ids": ("._queries", "active_run_ids"),
    "awaited": ("._queries", "awaited"),
    "last_event_data": ("._queries", "last_event_data"),
    "latest_event": ("._queries", "latest_event"),
    "run_counts": ("._queries", "run_counts"),
    "run_page": ("._queries", "run_page"),
    "runs_by_id": ("._queries", "runs_by_id"),
    "step_modes": ("._queries", "step_modes"),
    # what the query API hands out, for callers that may not import the store (the TUI)
    "ACTIVE_RUN_STATUSES": ("..store", "ACTIVE_RUN_STATUSES"),
    "RUN_STATUSES": ("..store", "RUN_STATUSES"),
    "STEP_STATUSES": ("..store", "STEP_STATUSES"),
    "TERMINAL_RUN_STATUSES": ("..store", "TERMINAL_RUN_STATUSES"),
    "TIMER_STATUSES": ("..store", "TIMER_STATUSES"),
    "PendingFailure": ("..store", "PendingFailure"),
    "RunRecord": ("..store", "RunRecord"),
    # and, for the MCP server, what opens a state dir and says whether a runner is up there
    "Store": ("..store", "Store"),
    "open_store": ("..store", "open_store"),
    "open_state": ("..store", "open_state"),
    "runner_pid": ("..store", "runner_pid"),
    "Registry": ("._registry", "Registry"),
    "Reloader": ("._reload", "Reloader"),
}


def __getattr__(name: str) -> Any:
    """Import the module behind `name` on first use."""
    try:
        module, attr = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = import_module(module, __name__)
    return value if attr is None else getattr(value, attr)


__all__ = [
    "ACTIVE_RUN_STATUSES",
    "CRON_EVENT",
    "DEFAULT_LEASE_S",
    "MAX_DELAY_S",
    "RUN_STATUSES",
    "STEP_STATUSES",
    "TERMINAL_RUN_STATUSES",
    "TIMER_STATUSES",
    "Change",
    "Clock",
    "Engine",
    "ExportedRun",
    "Imported",
    "Invocation",
    "Listener",
    "PendingFailure",
    "Registry",
    "Reloader",
    "RunRecord",
    "Store",
    "Verdict",
    "VirtualClock",
    "WallClock",
    "actions",
    "active_run_ids",
    "awaited",
    "bulk",
    "check_import",
    "check_run_status",
    "describe_error",
    "discover_files",
    "export_run",
    "function_rows",
    "import_run",
    "last_event_data",
    "latest_event",
    "list_runs",
    "load_export",
    "load_file",
    "load_paths",
    "make_event",
    "next_tick",
    "open_state",
    "open_store",
    "pending_failures",
    "read_document",
    "read_export",
    "retry_delay_s",
    "run_counts",
    "run_detail",
    "run_page",
    "run_steps",
    "run_summary",
    "runner_pid",
    "runs_by_id",
    "step_modes",
]
