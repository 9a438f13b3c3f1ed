"""A local speech server for tests that speaks three cloud TTS protocols to their real client libraries:

- OpenAI ``POST /v1/audio/speech`` (JSON body; raw 24 kHz 16-bit PCM back for ``response_format: pcm``, a WAV for
  ``wav``; errors as ``{"error": {message, type, param, code}}``);
- AWS Polly ``POST /v1/speech`` (REST-JSON body; the audio stream back with ``x-amzn-RequestCharacters``; errors
  with ``x-amzn-ErrorType`` and ``{"message": …}``, as Polly sends them);
- Google Cloud Text-to-Speech ``POST /v1/text:synthesize`` (JSON body; ``{"audioContent": base64 LINEAR16 WAV}``
  back; errors as ``{"error": {code, message, status}}``).

Each answer comes from a queue the test fills (a tone of some seconds, an error, or a delay); each request is
recorded with its path, headers and JSON body::

    with FakeSpeech() as speech:
        speech.speak(seconds=1.5)
        speech.fail(429, "slow down")
        ... # point the client at speech.url
        assert speech.bodies[0]["input"] == "일일구"

A request that finds the queue empty gets a 500, so a test that calls more often than it planned fails loudly.
"""

from __future__ import annotations

import base64
import io
import json
import math
import struct
import threading
import wave
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.threaded_server import RecordedRequest, ThreadedServer

OPENAI_PATH = "/v1/audio/speech"
POLLY_PATH = "/v1/speech"
GOOGLE_PATH = "/v1/text:synthesize"
SPEECH_PATHS = (OPENAI_PATH, POLLY_PATH, GOOGLE_PATH)
OPENAI_PCM_RATE = 24_000
GOOGLE_DEFAULT_RATE = 24_000
_GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}  # fmt: skip
_POLLY_ERRORS = {400: "ValidationException", 403: "UnrecognizedClientException", 429: "ThrottlingException",
                 500: "ServiceFailureException", 503: "ServiceFailureException"}  # fmt: skip


@dataclass(frozen=True)
class ScriptedSpeech:
    seconds: float = 1.0
    status: int = 200
    message: str = ""
    error_code: str = ""
    delay_sec: float = 0.0


@dataclass
class _State:
    answers: deque[ScriptedSpeech] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


def tone_pcm(seconds: float, sample_rate: int) -> bytes:
    """A 440 Hz tone as 16-bit little-endian mono PCM."""
    frames = round(seconds * sample_rate)
    return b"".join(
        struct.pack("<h", round(8000 * math.sin(2 * math.pi * 440 * i / sample_rate))) for i in range(frames)
    )


def tone_wav(seconds: float, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(tone_pcm(seconds, sample_rate))
    return buffer.getvalue()


class FakeSpeech(ThreadedServer):
    """The server; ``with FakeSpeech() as speech`` binds 127.0.0.1:0."""

    thread_name = "fake-speech"

    def __init__(self) -> None:
        self._state = _State()
        super().__init__(self._state.stopping)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_class(self._state)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (Polly's endpoint_url, Google's api_endpoint; OpenAI's base_url adds /v1)."""
        return self.origin()

    def speak(self, *, seconds: float = 1.0, delay_sec: float = 0.0) -> None:
        """Queue a 200 answer: a tone of ``seconds`` in the format the protocol asked for."""
        self._queue(ScriptedSpeech(seconds=seconds, delay_sec=delay_sec))

    def fail(self, status: int, message: str = "scripted failure", *, error_code: str = "") -> None:
        """Queue an error answer in the protocol's own error format."""
        self._queue(ScriptedSpeech(status=status, message=message, error_code=error_code))

    def _queue(self, answer: ScriptedSpeech) -> None:
        with self._state.lock:
            self._state.answers.append(answer)

    @property
    def recorded(self) -> list[RecordedRequest]:
        with self._state.lock:
            return [request for request in self._state.requests if request.path in SPEECH_PATHS]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [request.body for request in self.recorded]


def _handler_class(state: _State) -> type[BaseHTTPRequestHandler]:
    class SpeechHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            path = self.path.split("?", 1)[0]
            with state.lock:
                state.requests.append(RecordedRequest(path, dict(self.headers.items()), body))
                scripted = state.answers.popleft() if path in SPEECH_PATHS and state.answers else None
            if path not in SPEECH_PATHS:
                self._send(404, "application/json", json.dumps({"message": f"unknown path {path}"}).encode())
                return
            if scripted is None:
                scripted = ScriptedSpeech(status=500, message="no scripted answer left")
            if scripted.delay_sec and state.stopping.wait(scripted.delay_sec):
                return
            if scripted.status != 200:
                self._error(path, scripted)
            elif path == OPENAI_PATH:
                wav = body.get("response_format") == "wav"
                audio = (
                    tone_wav(scripted.seconds, OPENAI_PCM_RATE) if wav else tone_pcm(scripted.seconds, OPENAI_PCM_RATE)
                )
                self._send(200, "audio/wav" if wav else "audio/pcm", audio)
            elif path == POLLY_PATH:
                audio = tone_pcm(scripted.seconds, int(body.get("SampleRate") or 16000))
                headers = (("x-amzn-RequestCharacters", str(len(str(body.get("Text", ""))))),)
                self._send(200, "audio/pcm", audio, headers)
            else:
                rate = int(body.get("audioConfig", {}).get("sampleRateHertz") or GOOGLE_DEFAULT_RATE)
                content = base64.b64encode(tone_wav(scripted.seconds, rate)).decode()
                self._send(200, "application/json", json.dumps({"audioContent": content}).encode())

        def _error(self, path: str, scripted: ScriptedSpeech) -> None:
            status, message = scripted.status, scripted.message
            if path == OPENAI_PATH:
                kind = "invalid_request_error" if status < 500 else "server_error"
                error = {
                    "error": {"message": message, "type": kind, "param": None, "code": scripted.error_code or None}
                }
                self._send(status, "application/json", json.dumps(error).encode(), (("x-should-retry", "false"),))
            elif path == POLLY_PATH:
                code = scripted.error_code or _POLLY_ERRORS.get(status, "ServiceFailureException")
                self._send(
                    status,
                    "application/json",
                    json.dumps({"message": message}).encode(),
                    (("x-amzn-ErrorType", f"{code}:http://internal.amazon.com/coral/com.amazonaws.polly/"),),
                )
            else:
                status_name = _GOOGLE_STATUS.get(status, "UNKNOWN")
                google = {"error": {"code": status, "message": message, "status": status_name}}
                self._send(status, "application/json", json.dumps(google).encode())

        def _send(self, status: int, content_type: str, data: bytes, headers: tuple[tuple[str, str], ...] = ()) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", "fake-request")
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return SpeechHandler
