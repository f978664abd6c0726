"""A throw-away PostgreSQL server for tests: initdb in a temp dir, a free 127.0.0.1 port.

The server binaries are Debian's (`pg_config --bindir`; not on PATH). PostgreSQL refuses to run
as root, so as root they run as the `postgres` user. Each test gets a database of its own,
cloned from a template that already holds durable's schema (cloning is fast; creating the
schema in every test is not). Where the binaries are missing the tests are skipped, except
under `CI=true`, where that is a failure: CI must test the PostgreSQL store, never skip it.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

__all__ = ["PgServer", "pg_bindir", "pg_server"]

_TEMPLATE = "durable_template"


def pg_bindir() -> str | None:
    """Where initdb and pg_ctl are, or None when this machine has no PostgreSQL server."""
    candidates = []
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        candidates.append(found)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if os.path.exists(os.path.join(folder, "initdb")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """One PostgreSQL server in a temp dir, owned by the test session."""

    def __init__(self, bindir: str) -> None:
        """Create the cluster (not started yet)."""
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="durable-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._names = itertools.count(1)
        self._pg("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync",
                 "-E", "UTF8", "--locale=C")  # fmt: skip

    def _pg(self, tool: str, *args: str) -> None:
        command = [os.path.join(self.bindir, tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-k {self.root} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=200"
        )
        log = os.path.join(self.root, "log")
        self._pg("pg_ctl", "-D", self.data, "-l", log, "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`mode` as pg_ctl's -m: fast, immediate)."""
        self._pg("pg_ctl", "-D", self.data, "-w", "-m", mode, "stop")

    def restart(self, mode: str = "immediate") -> None:
        """Stop (by default as a crash would) and start again on the same port."""
        self.stop(mode)
        self.start()

    def url(self, dbname: str = "postgres") -> str:
        """A connection URL for one of its databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE DATABASE can't be in one)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as con:
            con.execute(sql)

    def prepare_template(self) -> None:
        """A database holding durable's schema, for `new_database` to clone."""
        from durable_cli.store._postgres import open_database

        self.execute(f"CREATE DATABASE {_TEMPLATE}")
        open_database(self.url(_TEMPLATE)).close()

    def new_database(self, *, schema: bool = True) -> str:
        """A fresh database (with durable's schema unless `schema=False`): its URL."""
        name = f"test_{next(self._names)}"
        template = _TEMPLATE if schema else "template0"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def cleanup(self) -> None:
        """Stop the server if it runs, and remove its files."""
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (skipped where none is installed, failed under CI)."""
    bindir = pg_bindir()
    if bindir is None:
        reason = "no PostgreSQL server binaries (pg_config --bindir; Debian's postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test the PostgreSQL store: {reason}")
        pytest.skip(reason)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must test the PostgreSQL store: psycopg is not installed")
        pytest.skip("psycopg is not installed (pip install -e '.[postgres]')")
    server = PgServer(bindir)
    try:
        server.start()
        server.prepare_template()
        yield server
    finally:
        server.cleanup()
