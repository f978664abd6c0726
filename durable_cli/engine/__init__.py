"""The runner, replay driver, retries, timers, loader and the queries the CLI and TUI share."""

from . import _actions as actions
from ._backoff import MAX_DELAY_S, retry_delay_s
from ._clock import Clock, VirtualClock, WallClock
from ._describe import describe_error
from ._engine import Engine
from ._invocation import Invocation, Verdict
from ._listener import Change, Listener
from ._loader import discover_files, load_file, load_paths
from ._queries import run_detail, run_summary
from ._registry import Registry

__all__ = [
    "MAX_DELAY_S",
    "Change",
    "Clock",
    "Engine",
    "Invocation",
    "Listener",
    "Registry",
    "Verdict",
    "VirtualClock",
    "WallClock",
    "actions",
    "describe_error",
    "discover_files",
    "load_file",
    "load_paths",
    "retry_delay_s",
    "run_detail",
    "run_summary",
]
