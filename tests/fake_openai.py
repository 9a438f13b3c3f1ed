"""A local OpenAI-compatible chat completions server for tests: scripted answers, recorded requests, no internet.

It speaks the real protocol to the real ``openai`` client: ``POST /v1/chat/completions`` answers with a
``chat.completion`` object (id, object, created, model, choices, usage), or with an OpenAI-style error body
and a chosen HTTP status. Each answer comes from a queue the test fills; each request body is recorded so
that a test can assert on the prompts::

    with FakeOpenAI() as llm:
        llm.answer('{"chapters": []}')
        llm.answer("late", delay_sec=2.0)
        llm.fail(503, "overloaded")
        ... # point the code under test at llm.base_url
        assert "source_text" in llm.requests[0]["messages"][1]["content"]

A request that finds the queue empty gets a 500 with ``x-should-retry: false`` and the message "no scripted
answer left", so a test that makes more calls than it planned fails loudly instead of hanging.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.threaded_server import RecordedRequest, ThreadedServer

CHAT_COMPLETIONS_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class ScriptedAnswer:
    """One reply: a message ``content`` (status 200), or an error ``message`` with an HTTP ``status``."""

    content: str | None = ""
    delay_sec: float = 0.0
    status: int = 200
    finish_reason: str = "stop"
    error_message: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class _State:
    answers: deque[ScriptedAnswer] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class FakeOpenAI(ThreadedServer):
    """The server. Start it with ``with FakeOpenAI() as llm`` (or ``start()``/``stop()``); it binds 127.0.0.1:0."""

    thread_name = "fake-openai"

    def __init__(self, *, model: str = "fake-model") -> None:
        self.model = model
        self._state = _State()
        super().__init__(self._state.stopping)  # wakes any answer still sleeping through its delay

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_class(self._state, self.model)

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give an OpenAI client: ``http://127.0.0.1:PORT/v1``."""
        return f"{self.origin()}/v1"

    # ---- scripting -----------------------------------------------------------------------------
    def answer(self, content: str | None, *, delay_sec: float = 0.0, finish_reason: str = "stop") -> None:
        """Queue a 200 reply whose single choice has ``content`` (``None`` sends ``"content": null``)."""
        self._queue(ScriptedAnswer(content=content, delay_sec=delay_sec, finish_reason=finish_reason))

    def fail(
        self, status: int, message: str = "scripted failure", *, delay_sec: float = 0.0, should_retry: bool = False
    ) -> None:
        """Queue an error reply with an OpenAI-style ``{"error": {...}}`` body and the given status."""
        headers = (("x-should-retry", "true" if should_retry else "false"),)
        self._queue(ScriptedAnswer(status=status, error_message=message, delay_sec=delay_sec, headers=headers))

    def _queue(self, answer: ScriptedAnswer) -> None:
        with self._state.lock:
            self._state.answers.append(answer)

    # ---- what was received ---------------------------------------------------------------------
    @property
    def requests(self) -> list[dict[str, Any]]:
        """The JSON bodies received on the chat completions path, in order."""
        with self._state.lock:
            return [request.body for request in self._state.requests if request.path == CHAT_COMPLETIONS_PATH]

    @property
    def recorded(self) -> list[RecordedRequest]:
        """Every request received (any path), with its headers."""
        with self._state.lock:
            return list(self._state.requests)

    def messages(self, index: int) -> list[dict[str, Any]]:
        """The ``messages`` of the ``index``-th chat completions request."""
        messages: list[dict[str, Any]] = self.requests[index]["messages"]
        return messages

    @property
    def pending(self) -> int:
        """How many scripted answers have not been used yet."""
        with self._state.lock:
            return len(self._state.answers)


def _handler_class(state: _State, model: str) -> type[BaseHTTPRequestHandler]:
    class ChatCompletionsHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the openai client expects; every reply has a length

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            with state.lock:
                state.requests.append(RecordedRequest(self.path, dict(self.headers.items()), body))
                scripted = state.answers.popleft() if self.path == CHAT_COMPLETIONS_PATH and state.answers else None
            if self.path != CHAT_COMPLETIONS_PATH:
                self._send(404, _error_body(f"unknown path {self.path}", "invalid_request_error"))
                return
            if scripted is None:
                self._send(500, _error_body("no scripted answer left", "server_error"), (("x-should-retry", "false"),))
                return
            if scripted.delay_sec and state.stopping.wait(scripted.delay_sec):
                return
            if scripted.status != 200:
                error_type = "invalid_request_error" if scripted.status < 500 else "server_error"
                self._send(scripted.status, _error_body(scripted.error_message, error_type), scripted.headers)
                return
            self._send(200, _completion(next(state.ids), body.get("model") or model, scripted))

        def do_GET(self) -> None:
            with state.lock:
                state.requests.append(RecordedRequest(self.path, dict(self.headers.items()), {}))
            if self.path == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "fake"}]})
                return
            self._send(404, _error_body(f"unknown path {self.path}", "invalid_request_error"))

        def _send(self, status: int, payload: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-request-id", f"req_fake_{next(state.ids)}")
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing left to tell it

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output quiet

    return ChatCompletionsHandler


def _completion(number: int, model: str, scripted: ScriptedAnswer) -> dict[str, Any]:
    content = scripted.content
    completion_tokens = len(content.split()) if content else 0
    return {
        "id": f"chatcmpl-fake{number:06d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": scripted.finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": completion_tokens, "total_tokens": 1 + completion_tokens},
        "system_fingerprint": "fp_fake",
    }


def _error_body(message: str, error_type: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": None, "code": None}}
