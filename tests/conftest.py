"""Shared test set-up. Being here puts tests/ on sys.path, so any test can `import helpers`."""

from pg_support import pg_server  # noqa: F401 - the session's PostgreSQL server, a fixture
