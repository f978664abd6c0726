"""A TCP proxy in front of PostgreSQL that can lose the answer to a COMMIT: the server commits,
the client never hears so (the connection drops), as when a network cut comes at that moment.

It reads the client's side of the wire protocol (startup message, then typed messages); when
armed, the next `COMMIT` sent as a simple query is passed on, the server's answer swallowed and
both sockets closed. Connect with `sslmode=disable&gssencmode=disable`, so the first message is
the startup message.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

__all__ = ["CommitCutter"]


class CommitCutter:
    """Listens on a free 127.0.0.1 port and forwards to `port`."""

    def __init__(self, port: int) -> None:
        """Start accepting connections."""
        self._target = port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.armed = threading.Event()
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, dbname: str) -> str:
        """A URL through the proxy."""
        return (
            f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"
            "?sslmode=disable&gssencmode=disable"
        )

    def close(self) -> None:
        """Stop accepting (open connections end with their peers)."""
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._target))
            committing = threading.Event()
            threading.Thread(
                target=self._client_side, args=(client, server, committing), daemon=True
            ).start()
            threading.Thread(
                target=self._server_side, args=(client, server, committing), daemon=True
            ).start()

    def _client_side(self, client: socket.socket, server: socket.socket, committing) -> None:
        with contextlib.suppress(OSError):
            (length,) = struct.unpack("!i", _read(client, 4))
            server.sendall(struct.pack("!i", length) + _read(client, length - 4))
            while True:
                head = _read(client, 5)
                body = _read(client, struct.unpack("!i", head[1:])[0] - 4)
                commit = body.rstrip(b"\0").strip().upper() == b"COMMIT"
                if head[:1] == b"Q" and commit and self.armed.is_set():
                    self.armed.clear()
                    committing.set()
                server.sendall(head + body)

    def _server_side(self, client: socket.socket, server: socket.socket, committing) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = server.recv(65536)
                if not data:
                    break
                if committing.is_set():  # the answer to the COMMIT: lost
                    self.cuts += 1
                    break
                client.sendall(data)
        for sock in (client, server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data
