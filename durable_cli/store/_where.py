"""Where the state lives when nobody says: the environment's names and the defaults.

Kept apart (importing nothing but `os`) so that `durable send`, `durable_cli.send` and every command
read one definition.
"""

from __future__ import annotations

import os

__all__ = [
    "DATABASE_ENV",
    "DEFAULT_STATE_DIR",
    "STATE_ENV",
    "default_database_url",
    "default_state_dir",
]

STATE_ENV = "DURABLE_STATE_DIR"
DATABASE_ENV = "DURABLE_DATABASE_URL"
DEFAULT_STATE_DIR = ".durable"


def default_state_dir() -> str:
    """`$DURABLE_STATE_DIR`, else `.durable` in the current folder."""
    return os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR


def default_database_url() -> str | None:
    """`$DURABLE_DATABASE_URL`, or None when it is unset or empty."""
    return os.environ.get(DATABASE_ENV) or None
