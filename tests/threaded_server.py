"""An HTTP server of a test's own on 127.0.0.1, served from a daemon thread: the lifecycle every fake shares.

A fake subclasses :class:`ThreadedServer`, gives its request handler class (``_handler``), and may prepare the
bound server (``_prepare``: TLS, or remembering its URL) and clean up after it (``_cleanup``). ``stopping`` is set
before the server shuts down, so a handler sleeping through a scripted delay wakes and the shutdown never waits
for it::

    with FakeOpenAI() as llm:   # or llm.start() ... llm.stop()
        ...
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

LOOPBACK = "127.0.0.1"
POLL_INTERVAL_SEC = 0.02
JOIN_TIMEOUT_SEC = 5.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request a fake received: its path, headers and JSON body (empty when it had none)."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class ThreadedServer:
    thread_name = "test-server"

    def __init__(self, stopping: threading.Event | None = None) -> None:
        self.stopping = stopping or threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def _prepare(self, server: ThreadingHTTPServer) -> None:
        """Called with the bound server before it serves (wrap its socket, note its port)."""

    def _cleanup(self) -> None:
        """Called after the server has stopped."""

    def start(self) -> Self:
        server = ThreadingHTTPServer((LOOPBACK, 0), self._handler())
        server.daemon_threads = True
        self._prepare(server)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL_SEC}, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=JOIN_TIMEOUT_SEC)
        self._server = self._thread = None
        self._cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def origin(self, scheme: str = "http") -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError(f"the {self.thread_name} server is not running; call start() first")
        return f"{scheme}://{LOOPBACK}:{self._server.server_address[1]}"
