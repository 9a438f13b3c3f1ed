"""A webhook receiver for tests: an HTTP server on 127.0.0.1, port 0, in a thread of the test process.

Each path answers from a script of statuses (``500, 500`` then 200 for ever, say) and checks every request's
Standard Webhooks signature with the path's secret through the ``standardwebhooks`` library, recording what came.
"""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from reelflow.local.ports import LOOPBACK


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    answered: int
    verified: bool
    problem: str = ""


@dataclass
class Receiver:
    base_url: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    answers: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def route(self, path: str, *, secret: str = "", answers: tuple[int, ...] = ()) -> str:
        """Answer ``path`` with ``answers`` in turn, then 200; verify its requests with ``secret``."""
        with self.lock:
            if secret:
                self.secrets[path] = secret
            self.answers[path] = list(answers)
        return self.url(path)

    def of(self, path: str, event_type: str | None = None, **data: Any) -> list[Received]:
        with self.lock:
            return [
                r
                for r in self.received
                if r.path == path
                and (event_type is None or r.body.get("type") == event_type)
                and all(r.body.get("data", {}).get(key) == value for key, value in data.items())
            ]

    async def wait_for(
        self, path: str, event_type: str, *, count: int = 1, timeout_sec: float = 30, **data: Any
    ) -> list[Received]:
        deadline = time.monotonic() + timeout_sec
        while time.monotonic() < deadline:
            found = self.of(path, event_type, **data)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"{path} got {len(self.of(path, event_type, **data))} {event_type} of {count}")

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        with self.lock:
            script = self.answers.get(path, [])
            status = script.pop(0) if script else 200
            secret = self.secrets.get(path)
        verified, problem = False, ""
        if secret:
            try:
                Webhook(secret).verify(raw, headers)
                verified = True
            except WebhookVerificationError as error:
                problem = str(error)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        with self.lock:
            self.received.append(Received(path, headers, body, status, verified, problem))
        return status


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            status = receiver.answer(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    receiver.base_url = f"http://{LOOPBACK}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="webhook receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
