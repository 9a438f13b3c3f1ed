"""A fake Spring backend for tests: a real HTTP server on 127.0.0.1, port 0, in a thread of the test process.

It serves ``GET /internal/scripts/{script_id}/render-spec`` from what the test sets per script (a spec, an error
status, or an answer that hangs), refuses any request without its Bearer token (401), and records every request
it gets, headers and body, so a test can assert on the job and script callbacks
(``POST /video/job/{job_id}/complete``, ``POST /video/script/complete``).

For REELFLOW_STORAGE_PROVIDER=backend_presigned it hands out upload URLs as a backend with its own S3 would:
``POST /internal/storage/presigned-uploads`` answers ``{uploadUrl, url, headers}``, where ``uploadUrl`` is a PUT
to this server carrying a one-time signature instead of the Bearer token; a PUT with an unknown signature or
another content type than the one announced is refused (403), as S3 refuses a presigned URL used otherwise. What
arrives is kept in ``uploads`` (by the file's lasting ``url``) and served back by ``GET`` on that URL.
"""

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reelflow.local.ports import LOOPBACK

BACKEND_API_TOKEN = "backend-api-token-for-the-tests"
RENDER_SPEC_PREFIX = "/internal/scripts/"
RENDER_SPEC_SUFFIX = "/render-spec"
PRESIGNED_UPLOADS_PATH = "/internal/storage/presigned-uploads"
SIGNED_PUT_PREFIX = "/presigned-put/"
FILES_PREFIX = "/files/"


@dataclass(frozen=True)
class PendingUpload:
    """A presigned PUT handed out and not yet used: where the file will live and the content type it must have."""

    path: str
    content_type: str


@dataclass(frozen=True)
class SpecAnswer:
    """How the fake answers one script's render spec: a status and a JSON body, after ``delay_sec``."""

    status: int = 200
    body: Any = None
    delay_sec: float = 0.0


@dataclass(frozen=True)
class BackendRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    answered: int


@dataclass
class FakeSpringBackend:
    token: str = BACKEND_API_TOKEN
    base_url: str = ""
    specs: dict[str, SpecAnswer] = field(default_factory=dict)
    callback_answers: dict[str, list[int]] = field(default_factory=dict)
    requests: list[BackendRequest] = field(default_factory=list)
    pending_uploads: dict[str, PendingUpload] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    upload_answers: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- what the test sets ----------------------------------------------------------------------------------
    def serve_spec(self, script_id: str, spec: Any) -> None:
        """Answer the script's render spec with ``spec`` (any JSON: a valid spec or not)."""
        self._set(script_id, SpecAnswer(200, spec))

    def fail_spec(self, script_id: str, status: int = 500) -> None:
        self._set(script_id, SpecAnswer(status, {"error": "the fake backend was told to fail"}))

    def hang_spec(self, script_id: str, delay_sec: float) -> None:
        """Answer the script's render spec only after ``delay_sec`` (longer than the gateway's timeout)."""
        self._set(script_id, SpecAnswer(200, {}, delay_sec))

    def fail_callbacks(self, path: str, *statuses: int) -> None:
        """Answer the next POSTs to ``path`` with ``statuses`` in turn, then 200."""
        with self.lock:
            self.callback_answers[path] = list(statuses)

    def fail_uploads(self, *statuses: int) -> None:
        """Answer the next presigned PUTs with ``statuses`` in turn (keeping nothing), then take them again."""
        with self.lock:
            self.upload_answers = list(statuses)

    def uploaded(self, url: str) -> bytes | None:
        """What was PUT for the file whose lasting URL is ``url``."""
        with self.lock:
            return self.uploads.get(url.removeprefix(self.base_url))

    def _set(self, script_id: str, answer: SpecAnswer) -> None:
        with self.lock:
            self.specs[script_id] = answer

    # ---- what the test reads ---------------------------------------------------------------------------------
    def received(self, path: str, method: str = "POST") -> list[BackendRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    async def wait_for(self, path: str, *, count: int = 1, timeout_sec: float = 30) -> list[BackendRequest]:
        deadline = time.monotonic() + timeout_sec
        while time.monotonic() < deadline:
            found = self.received(path)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"the fake backend got {len(self.received(path))} POST {path}, not {count}")

    def spec_fetches(self, script_id: str) -> list[BackendRequest]:
        return self.received(f"{RENDER_SPEC_PREFIX}{script_id}{RENDER_SPEC_SUFFIX}", "GET")

    # ---- the server's side -----------------------------------------------------------------------------------
    def _presign(self, body: dict[str, Any]) -> dict[str, Any]:
        signature = secrets.token_urlsafe(12)
        file_path = f"{FILES_PREFIX}{body.get('jobId')}/{body.get('fileName')}"
        with self.lock:
            self.pending_uploads[signature] = PendingUpload(file_path, str(body.get("contentType")))
        return {
            "uploadUrl": f"{self.base_url}{SIGNED_PUT_PREFIX}{signature}",
            "url": f"{self.base_url}{file_path}",
            "headers": {"x-amz-meta-sha256": str(body.get("sha256"))},
        }

    def file_answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any] | None:
        """A presigned PUT or a GET of an uploaded file (neither takes the Bearer token); None for anything else.
        A PUT is recorded like every request, without its body."""
        if method == "PUT" and path.startswith(SIGNED_PUT_PREFIX):
            with self.lock:
                pending = self.pending_uploads.get(path.removeprefix(SIGNED_PUT_PREFIX))
                scripted = self.upload_answers.pop(0) if self.upload_answers else None
                if scripted is not None:
                    status: int = scripted
                elif pending is None or headers.get("content-type") != pending.content_type:
                    status = 403
                else:
                    status = 200
                    self.uploads[pending.path] = raw
                    self.pending_uploads.pop(path.removeprefix(SIGNED_PUT_PREFIX))
                self.requests.append(BackendRequest(method, path, headers, len(raw), status))
            return status, b""
        if method == "GET" and path.startswith(FILES_PREFIX):
            with self.lock:
                data = self.uploads.get(path)
            return (200, data) if data is not None else (404, b"")
        return None

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, float]:
        """The status, JSON body and delay for one request, which is recorded."""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        reply: Any = {"ok": True}
        status, delay = 200, 0.0
        if headers.get("authorization") != f"Bearer {self.token}":
            status, reply = 401, {"error": "missing or wrong bearer token"}
        elif method == "GET" and path.startswith(RENDER_SPEC_PREFIX) and path.endswith(RENDER_SPEC_SUFFIX):
            script_id = path.removeprefix(RENDER_SPEC_PREFIX).removesuffix(RENDER_SPEC_SUFFIX)
            with self.lock:
                spec = self.specs.get(script_id)
            if spec is None:
                status, reply = 404, {"error": f"no script {script_id}"}
            else:
                status, reply, delay = spec.status, spec.body, spec.delay_sec
        elif method == "POST" and path == PRESIGNED_UPLOADS_PATH and isinstance(body, dict):
            reply = self._presign(body)
        elif method != "POST":
            status, reply = 404, {"error": "no such route"}
        else:
            with self.lock:
                scripted = self.callback_answers.get(path) or []
                if scripted:
                    status, reply = scripted.pop(0), {"error": "the fake backend was told to fail"}
        with self.lock:
            self.requests.append(BackendRequest(method, path, headers, body, status))
        return status, reply, delay


@contextmanager
def fake_spring_backend(token: str = BACKEND_API_TOKEN) -> Iterator[FakeSpringBackend]:
    backend = FakeSpringBackend(token=token)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            file_answer = backend.file_answer(method, self.path, headers, raw)
            if file_answer is not None:
                self._send(file_answer[0], file_answer[1], "application/octet-stream")
                return
            status, reply, delay = backend.answer(method, self.path, headers, raw)
            if delay:
                time.sleep(delay)
            self._send(status, json.dumps(reply).encode(), "application/json")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the caller gave up waiting (its timeout) and closed the connection
                return

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    server.daemon_threads = True
    backend.base_url = f"http://{LOOPBACK}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake spring backend", daemon=True)
    thread.start()
    try:
        yield backend
    finally:
        server.shutdown()
        server.server_close()
