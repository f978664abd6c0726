"""The PostgreSQL store (psycopg 3, the `postgres` extra): many runners on one database."""

from __future__ import annotations

from ._schema import SCHEMA_VERSION
from ._store import PostgresStore

__all__ = ["SCHEMA_VERSION", "PostgresStore", "open_database"]


def open_database(url: str, *, create: bool = True, retry_s: float | None = None) -> PostgresStore:
    """Open the database at `url` (creating durable's schema there if asked and missing).

    A database out of reach, or a schema of a newer version, is refused at once (one-line
    `StateError`, `SchemaVersionError`); once open, a lost connection is retried for `retry_s`
    seconds (None: until the database is back) before a `StateError` is raised.
    """
    return PostgresStore(url, create=create, retry_s=retry_s)
