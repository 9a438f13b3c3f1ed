"""A local OpenAI Images API for tests: ``POST /v1/images/generations`` answered with a real PNG, no internet.

It speaks the real protocol to the real ``openai`` client: a 200 answer is an ``ImagesResponse``
(``created`` and ``data: [{"b64_json": …}]``), an error is OpenAI's error body with the chosen status. Every
request body is recorded, so a test can check the prompt, model and size the code asked for::

    with FakeImages() as images:
        images.fail(429, "slow down")        # the next request only
        ... # point the code at images.base_url
        assert images.requests[0]["prompt"] == "a hard hat on a workbench"

Each image is a solid colour (``colour``) at the requested size, so a test can find it in a rendered frame.
A ``delay_sec`` answer lets a test hit its client's timeout.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from PIL import Image

from tests.threaded_server import ThreadedServer

GENERATIONS_PATH = "/v1/images/generations"


@dataclass(frozen=True)
class _Failure:
    status: int
    message: str
    delay_sec: float = 0.0


@dataclass
class _State:
    colour: tuple[int, int, int]
    failures: deque[_Failure] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _png(size: str, colour: tuple[int, int, int]) -> bytes:
    width, height = (int(part) for part in size.split("x"))
    buffer = io.BytesIO()
    Image.new("RGB", (width // 8, height // 8), colour).save(buffer, format="PNG")  # small: tests stay quick
    return buffer.getvalue()


class FakeImages(ThreadedServer):
    thread_name = "fake-images"

    def __init__(self, colour: tuple[int, int, int] = (230, 0, 200)) -> None:
        self._state = _State(colour=colour)
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        state, stopping = self._state, self.stopping

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with state.lock:
                    state.requests.append(body)
                    failure = state.failures.popleft() if state.failures else None
                if self.path != GENERATIONS_PATH:
                    self._answer(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                    return
                if failure is not None:
                    stopping.wait(failure.delay_sec)  # a stop wakes it
                    self._answer(failure.status, {"error": {"message": failure.message, "type": "api_error"}})
                    return
                image = base64.b64encode(_png(str(body.get("size", "1024x1024")), state.colour)).decode()
                self._answer(200, {"created": int(time.time()), "data": [{"b64_json": image}]})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-should-retry", "false")
                self.end_headers()
                self.wfile.write(data)

        return Handler

    @property
    def base_url(self) -> str:
        return f"{self.origin()}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._state.lock:
            return list(self._state.requests)

    def fail(self, status: int, message: str, *, delay_sec: float = 0.0) -> None:
        """The next request gets this error (after ``delay_sec``)."""
        with self._state.lock:
            self._state.failures.append(_Failure(status, message, delay_sec))
