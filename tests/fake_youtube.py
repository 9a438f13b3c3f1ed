"""A local YouTube Data API v3 for tests: it speaks the real protocol to the real google-api-python-client.

It serves HTTPS on 127.0.0.1 with a certificate from its own throwaway CA (``ca_bundle``), because the client
library keeps the scheme of the real upload URL and only swaps the host when pointed elsewhere. What it answers:

- ``POST /token``: the OAuth token endpoint (form-encoded): the refresh-token grant, answering an access token,
  and the authorization-code grant with PKCE, answering an access and a refresh token for a code that
  :meth:`FakeYouTube.authorize` issued (standing in for a person clicking "Allow"), once, when ``code_verifier``
  matches its S256 ``code_challenge`` and ``redirect_uri`` and the client match. A revoked or unknown token, or
  a bad code, gets ``400 invalid_grant``; a wrong client ``401 invalid_client``.
- ``GET /youtube/v3/channels?part=snippet&mine=true``: the channel the bearer token acts for, as
  ``{"items": [{"id": "UC…", "snippet": {"title": …}}]}``.
- ``POST /upload/youtube/v3/videos?uploadType=resumable``: starts a resumable session (the video resource as
  JSON, ``X-Upload-Content-Length``) and answers its URI in ``Location``.
- ``PUT`` on a session URI with ``Content-Range: bytes a-b/total``: stores the chunk and answers ``308`` with
  ``Range: bytes=0-n``, or ``200`` with the video resource once every byte is in. A chunk that does not start
  where the session stands is refused with ``400``, so a client that re-sends bytes fails loudly.
- ``PUT`` with ``Content-Range: bytes */total`` and no body: the status query, answered the same way.
- ``POST /upload/youtube/v3/thumbnails/set?videoId=…`` (a simple media upload) and
  ``POST /upload/youtube/v3/captions?part=snippet`` (a multipart/related upload).

Every API call but a session PUT needs ``Authorization: Bearer <a token it issued>`` (a session URI is itself
the credential, as on YouTube). Errors have Google's shape: ``{"error": {"code", "message", "errors":
[{"message", "domain", "reason"}], "status"}}``. A test scripts faults per operation and reads back what
arrived::

    with FakeYouTube() as youtube:
        youtube.fail("chunk", 503)               # the next chunk PUT answers 503 (and stores nothing)
        youtube.quota_exceeded("initiate")       # the next session start answers 403 quotaExceeded
        youtube.stall_chunk(3)                   # the 3rd chunk PUT is read, then never answered nor stored
        ... # point the uploader at youtube.api_url, youtube.token_uri, youtube.ca_bundle
        assert youtube.only_session().ranges == [(0, 262143), (262144, 524287), ...]

Operations for :meth:`FakeYouTube.fail`: ``token``, ``initiate``, ``chunk``, ``status``, ``thumbnail``,
``caption``.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import ipaddress
import itertools
import json
import shutil
import ssl
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.threaded_server import LOOPBACK, ThreadedServer

CLIENT_ID = "fake-client-id.apps.googleusercontent.com"
CLIENT_SECRET = "fake-client-secret"
REFRESH_TOKEN = "1//fake-refresh-token"
# The channel the install's refresh token (REFRESH_TOKEN) acts for.
CHANNEL_ID = "UCfakeInstallChannel00001"
CHANNEL_TITLE = "The install's channel"
QUOTA_MESSAGE = (
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">'
    "quota</a>."
)
OPERATIONS = frozenset({"token", "initiate", "chunk", "status", "thumbnail", "caption"})
# How long a stalled chunk keeps its connection before closing it unanswered.
STALL_HOLD_SEC = 30.0


@dataclass(frozen=True)
class Fault:
    status: int
    reason: str
    domain: str
    message: str


@dataclass
class UploadSession:
    upload_id: str
    metadata: dict[str, Any]
    total: int
    content_type: str
    data: bytearray = field(default_factory=bytearray)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    video_id: str | None = None


@dataclass(frozen=True)
class CaptionTrack:
    caption_id: str
    snippet: dict[str, Any]
    body: bytes


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case


@dataclass(frozen=True)
class Authorization:
    """A code :meth:`FakeYouTube.authorize` issued, and what redeeming it must match."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    channel_id: str
    title: str


@dataclass
class _State:
    base_url: str = ""
    revoked: bool = False
    revoked_tokens: set[str] = field(default_factory=set)
    # Refresh token -> the channel it acts for; access token -> the same.
    refresh_channels: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {REFRESH_TOKEN: (CHANNEL_ID, CHANNEL_TITLE)}
    )
    access_channels: dict[str, tuple[str, str]] = field(default_factory=dict)
    codes: dict[str, Authorization] = field(default_factory=dict)
    issued_tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    sessions: dict[str, UploadSession] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    thumbnails: dict[str, bytes] = field(default_factory=dict)
    captions: list[CaptionTrack] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    chunk_puts: int = 0
    stall_at_chunk: int | None = None
    stalled: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class FakeYouTube(ThreadedServer):
    """The server. Start it with ``with FakeYouTube() as youtube`` (or ``start()``/``stop()``)."""

    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET
    refresh_token = REFRESH_TOKEN

    thread_name = "fake-youtube"

    def __init__(self) -> None:
        self._state = _State()
        super().__init__(self._state.stopping)  # releases a stalled chunk
        self._folder: Path | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_class(self._state)

    def _prepare(self, server: ThreadingHTTPServer) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="fake-youtube-"))
        certificate, key = _make_certificates(self._folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        # The handshake happens in the request's own thread, so a client that stalls cannot block the others.
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._state.base_url = f"https://{LOOPBACK}:{server.server_address[1]}/"

    def _cleanup(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None

    @property
    def api_url(self) -> str:
        """The API endpoint to give the client library: ``https://127.0.0.1:PORT/``."""
        if not self._state.base_url:
            raise RuntimeError("the fake YouTube server is not running; call start() first")
        return self._state.base_url

    @property
    def token_uri(self) -> str:
        return f"{self.api_url}token"

    @property
    def ca_bundle(self) -> Path:
        """The PEM file of the CA that signed the server's certificate."""
        if self._folder is None:
            raise RuntimeError("the fake YouTube server is not running; call start() first")
        return self._folder / "ca.pem"

    def settings_env(self) -> dict[str, str]:
        """``REELFLOW_YOUTUBE_*`` settings that point an uploader at this server."""
        return {
            "REELFLOW_YOUTUBE_CLIENT_ID": self.client_id,
            "REELFLOW_YOUTUBE_CLIENT_SECRET": self.client_secret,
            "REELFLOW_YOUTUBE_REFRESH_TOKEN": self.refresh_token,
            "REELFLOW_YOUTUBE_TOKEN_URI": self.token_uri,
            "REELFLOW_YOUTUBE_API_URL": self.api_url,
            "REELFLOW_YOUTUBE_CA_BUNDLE": str(self.ca_bundle),
        }

    # ---- scripting -----------------------------------------------------------------------------
    def fail(
        self,
        operation: str,
        status: int,
        reason: str = "backendError",
        *,
        domain: str = "global",
        message: str = "scripted failure",
        times: int = 1,
    ) -> None:
        """The next ``times`` requests of ``operation`` answer ``status`` with a Google error body."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {sorted(OPERATIONS)}")
        with self._state.lock:
            queue = self._state.faults.setdefault(operation, deque())
            queue.extend(Fault(status, reason, domain, message) for _ in range(times))

    def quota_exceeded(self, operation: str = "initiate") -> None:
        """The next ``operation`` answers what YouTube answers once the project's daily quota is used up."""
        self.fail(operation, 403, "quotaExceeded", domain="youtube.quota", message=QUOTA_MESSAGE)

    def upload_limit_exceeded(self) -> None:
        """The next session start answers what YouTube answers once a channel hit its 24-hour upload limit."""
        message = "The user has exceeded the number of videos they may upload."
        self.fail("initiate", 400, "uploadLimitExceeded", domain="youtube.video", message=message)

    def stall_chunk(self, number: int) -> None:
        """The ``number``-th chunk PUT from now (over all sessions) is read, neither stored nor answered, and its
        connection is held until the server stops (or ``STALL_HOLD_SEC``); ``stalled`` is set then."""
        with self._state.lock:
            self._state.stall_at_chunk = self._state.chunk_puts + number
            self._state.stalled.clear()

    def revoke_refresh_token(self, revoked: bool = True) -> None:
        """Refuse (or accept again) the refresh token, and forget the access tokens issued from it."""
        with self._state.lock:
            self._state.revoked = revoked
            self._state.issued_tokens.clear()

    def revoke(self, refresh_token: str) -> None:
        """Refuse this one refresh token from now on (a person removed the app's access to their channel)."""
        with self._state.lock:
            self._state.revoked_tokens.add(refresh_token)

    def authorize(
        self,
        client_id: str,
        redirect_uri: str,
        code_challenge: str,
        *,
        channel_id: str = "UCfakeConnectedChannel001",
        title: str = "A connected channel",
    ) -> str:
        """What Google does when a person clicks "Allow" on the consent page: a code for ``channel_id``, which the
        token endpoint redeems once, with the verifier of ``code_challenge`` (S256)."""
        code = f"4/fake-code-{next(self._state.ids)}"
        with self._state.lock:
            self._state.codes[code] = Authorization(client_id, redirect_uri, code_challenge, channel_id, title)
        return code

    def refresh_token_for(self, channel_id: str, title: str = "A pasted channel") -> str:
        """A refresh token for ``channel_id``, as someone would copy it out of the OAuth playground."""
        token = f"1//fake-refresh-{next(self._state.ids)}"
        with self._state.lock:
            self._state.refresh_channels[token] = (channel_id, title)
        return token

    def reset(self) -> None:
        """Drop scripted faults, a pending stall and a revocation; what was received stays."""
        with self._state.lock:
            self._state.faults.clear()
            self._state.stall_at_chunk = None
            self._state.revoked = False

    # ---- what was received ---------------------------------------------------------------------
    @property
    def stalled(self) -> threading.Event:
        return self._state.stalled

    @property
    def sessions(self) -> list[UploadSession]:
        with self._state.lock:
            return list(self._state.sessions.values())

    def only_session(self) -> UploadSession:
        [session] = self.sessions
        return session

    @property
    def videos(self) -> dict[str, dict[str, Any]]:
        with self._state.lock:
            return dict(self._state.videos)

    def video_bytes(self, video_id: str) -> bytes:
        with self._state.lock:
            return next(bytes(s.data) for s in self._state.sessions.values() if s.video_id == video_id)

    @property
    def thumbnails(self) -> dict[str, bytes]:
        with self._state.lock:
            return dict(self._state.thumbnails)

    @property
    def captions(self) -> list[CaptionTrack]:
        with self._state.lock:
            return list(self._state.captions)

    @property
    def token_requests(self) -> list[dict[str, str]]:
        with self._state.lock:
            return list(self._state.token_requests)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path == path)

    @property
    def chunk_puts(self) -> int:
        with self._state.lock:
            return self._state.chunk_puts


def _google_error(status: int, reason: str, message: str, domain: str = "global") -> dict[str, Any]:
    status_names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status_names.get(status, "UNAVAILABLE" if status >= 500 else "FAILED_PRECONDITION"),
        }
    }


def _handler_class(state: _State) -> type[BaseHTTPRequestHandler]:
    class YouTubeHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httplib2 expects; every answer has a length
        timeout = STALL_HOLD_SEC + 5  # a half-sent request cannot hold a thread for ever

        # ---- plumbing ------------------------------------------------------------------------
        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _record(self) -> tuple[str, dict[str, list[str]]]:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            headers = {name.lower(): value for name, value in self.headers.items()}
            with state.lock:
                state.requests.append(RecordedRequest(self.command, parts.path, query, headers))
            return parts.path, query

        def _send(
            self, status: int, payload: dict[str, Any] | None = None, headers: tuple[tuple[str, str], ...] = ()
        ) -> None:
            data = json.dumps(payload).encode() if payload is not None else b""
            try:
                self.send_response(status)
                if payload is not None:
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the client went away (a killed uploader): nothing left to tell it

        def _fault(self, operation: str) -> bool:
            with state.lock:
                queue = state.faults.get(operation)
                fault = queue.popleft() if queue else None
            if fault is None:
                return False
            if operation == "token":
                self._send(fault.status, {"error": fault.reason, "error_description": fault.message})
            else:
                self._send(fault.status, _google_error(fault.status, fault.reason, fault.message, fault.domain))
            return True

        def _authorized(self) -> bool:
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            with state.lock:
                known = token in state.issued_tokens
            if not known:
                message = "Request is missing required authentication credential."
                self._send(401, _google_error(401, "required", message))
            return known

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output quiet

        # ---- routes --------------------------------------------------------------------------
        def do_POST(self) -> None:
            path, query = self._record()
            body = self._read_body()
            if path == "/token":
                self._token(body)
            elif path == "/upload/youtube/v3/videos" and query.get("uploadType") == ["resumable"]:
                self._initiate(query, body)
            elif path == "/upload/youtube/v3/thumbnails/set":
                self._thumbnail(query, body)
            elif path == "/upload/youtube/v3/captions":
                self._caption(body)
            else:
                self._send(404, _google_error(404, "notFound", f"no fake route for POST {path}"))

        def do_GET(self) -> None:
            path, query = self._record()
            if path == "/youtube/v3/channels":
                self._channels(query)
            else:
                self._send(404, _google_error(404, "notFound", f"no fake route for GET {path}"))

        def _channels(self, query: dict[str, list[str]]) -> None:
            if query.get("part") != ["snippet"] or query.get("mine") != ["true"]:
                self._send(400, _google_error(400, "badRequest", "the fake answers part=snippet&mine=true only"))
                return
            if not self._authorized():
                return
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            with state.lock:
                channel_id, title = state.access_channels[token]
            item = {"kind": "youtube#channel", "etag": "fake", "id": channel_id, "snippet": {"title": title}}
            self._send(200, {"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 1}, "items": [item]})

        def do_PUT(self) -> None:
            path, query = self._record()
            upload_id = (query.get("upload_id") or [""])[0]
            if path != "/upload/youtube/v3/videos" or not upload_id:
                self._read_body()
                self._send(404, _google_error(404, "notFound", f"no fake route for PUT {path}"))
                return
            self._session_put(upload_id)

        def _token(self, body: bytes) -> None:
            form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
            with state.lock:
                state.token_requests.append(form)
            if self._fault("token"):
                return
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                self._send(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
                return
            if form.get("grant_type") == "authorization_code":
                self._redeem_code(form)
                return
            refresh_token = form.get("refresh_token") or ""
            with state.lock:
                channel = state.refresh_channels.get(refresh_token)
                revoked = state.revoked or refresh_token in state.revoked_tokens
            if form.get("grant_type") != "refresh_token" or channel is None or revoked:
                self._send(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
                return
            answer: dict[str, Any] = {"access_token": self._issue(channel), "expires_in": 3599, "token_type": "Bearer"}
            if "scope" in form:
                answer["scope"] = form["scope"]
            self._send(200, answer)

        def _issue(self, channel: tuple[str, str]) -> str:
            token = f"ya29.fake-{next(state.ids)}"
            with state.lock:
                state.issued_tokens.add(token)
                state.access_channels[token] = channel
            return token

        def _redeem_code(self, form: dict[str, str]) -> None:
            with state.lock:
                granted = state.codes.pop(form.get("code") or "", None)  # a code is redeemed once
            verifier = form.get("code_verifier") or ""
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if (
                granted is None
                or granted.client_id != form.get("client_id")
                or granted.redirect_uri != form.get("redirect_uri")
                or granted.code_challenge != challenge
            ):
                self._send(400, {"error": "invalid_grant", "error_description": "Bad Request"})
                return
            channel = (granted.channel_id, granted.title)
            refresh_token = f"1//fake-refresh-{next(state.ids)}"
            with state.lock:
                state.refresh_channels[refresh_token] = channel
            answer = {
                "access_token": self._issue(channel),
                "refresh_token": refresh_token,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/youtube.upload",
            }
            self._send(200, answer)

        def _initiate(self, query: dict[str, list[str]], body: bytes) -> None:
            if not self._authorized() or self._fault("initiate"):
                return
            total = self.headers.get("X-Upload-Content-Length")
            if total is None:
                self._send(400, _google_error(400, "badRequest", "X-Upload-Content-Length is required"))
                return
            upload_id = f"fake-upload-{next(state.ids)}"
            session = UploadSession(
                upload_id=upload_id,
                metadata=json.loads(body) if body else {},
                total=int(total),
                content_type=self.headers.get("X-Upload-Content-Type") or "",
            )
            with state.lock:
                state.sessions[upload_id] = session
            part = ",".join(query.get("part", []))
            location = (
                f"{state.base_url}upload/youtube/v3/videos?uploadType=resumable&part={part}&upload_id={upload_id}"
            )
            self._send(200, None, (("Location", location),))

        def _session_put(self, upload_id: str) -> None:
            content_range = self.headers.get("Content-Range") or ""
            is_status_query = content_range.startswith("bytes */")
            if not is_status_query:
                with state.lock:
                    state.chunk_puts += 1
                    stall = state.chunk_puts == state.stall_at_chunk
            body = self._read_body()
            if is_status_query:
                if self._fault("status"):
                    return
            elif stall:
                state.stalled.set()
                state.stopping.wait(STALL_HOLD_SEC)
                self.close_connection = True
                return
            elif self._fault("chunk"):
                return
            with state.lock:
                session = state.sessions.get(upload_id)
                if session is None:
                    answer: tuple[int, dict[str, Any] | None, tuple[tuple[str, str], ...]] = (
                        404,
                        _google_error(404, "notFound", "upload session not found"),
                        (),
                    )
                elif is_status_query:
                    answer = _session_answer(state, session)
                else:
                    answer = _store_chunk(state, session, content_range, body)
            self._send(*answer)

        def _thumbnail(self, query: dict[str, list[str]], body: bytes) -> None:
            if not self._authorized() or self._fault("thumbnail"):
                return
            video_id = (query.get("videoId") or [""])[0]
            with state.lock:
                known = video_id in state.videos
                if known:
                    state.thumbnails[video_id] = body
            if not known:
                self._send(404, _google_error(404, "videoNotFound", f"video {video_id!r} not found"))
                return
            url = f"https://i.ytimg.com/vi/{video_id}/default.jpg"
            self._send(
                200,
                {
                    "kind": "youtube#thumbnailSetResponse",
                    "etag": "fake-etag",
                    "items": [{"default": {"url": url, "width": 120, "height": 90}}],
                },
            )

        def _caption(self, body: bytes) -> None:
            if not self._authorized() or self._fault("caption"):
                return
            content_type = self.headers.get("Content-Type") or ""
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + body
            )
            parts = list(message.iter_parts())
            if len(parts) != 2:
                self._send(400, _google_error(400, "badRequest", "expected a multipart/related metadata + media body"))
                return
            metadata_part, media_part = (part.get_payload(decode=True) for part in parts)
            metadata = json.loads(metadata_part) if isinstance(metadata_part, bytes) else {}
            media = media_part if isinstance(media_part, bytes) else b""
            snippet = metadata.get("snippet", {})
            with state.lock:
                known = snippet.get("videoId") in state.videos
                caption_id = f"fake-caption-{next(state.ids)}"
                if known:
                    state.captions.append(CaptionTrack(caption_id, snippet, bytes(media)))
            if not known:
                self._send(404, _google_error(404, "videoNotFound", "the caption's video was not found"))
                return
            resource = {
                "kind": "youtube#caption",
                "etag": "fake-etag",
                "id": caption_id,
                "snippet": snippet | {"trackKind": "standard", "status": "serving", "lastUpdated": _now()},
            }
            self._send(200, resource)

    return YouTubeHandler


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _session_answer(
    state: _State, session: UploadSession
) -> tuple[int, dict[str, Any] | None, tuple[tuple[str, str], ...]]:
    """308 with the Range held so far, or 200 with the video once complete. Called with the lock held."""
    if session.video_id is not None:
        return 200, state.videos[session.video_id], ()
    if not session.data:
        return 308, None, ()
    return 308, None, (("Range", f"bytes=0-{len(session.data) - 1}"),)


def _store_chunk(
    state: _State, session: UploadSession, content_range: str, body: bytes
) -> tuple[int, dict[str, Any] | None, tuple[tuple[str, str], ...]]:
    """Append one chunk; called with the lock held."""
    try:
        span, total = content_range.removeprefix("bytes ").split("/")
        first, last = (int(bound) for bound in span.split("-"))
    except ValueError:
        return 400, _google_error(400, "badRequest", f"unreadable Content-Range {content_range!r}"), ()
    if session.video_id is not None:
        return 200, state.videos[session.video_id], ()
    problem = ""
    if first != len(session.data):
        problem = f"the chunk starts at byte {first}, but the session holds {len(session.data)} bytes"
    elif last - first + 1 != len(body):
        problem = f"Content-Range covers {last - first + 1} bytes, the body has {len(body)}"
    elif int(total) != session.total:
        problem = f"Content-Range total {total} differs from X-Upload-Content-Length {session.total}"
    if problem:
        return 400, _google_error(400, "badContent", problem), ()
    session.data.extend(body)
    session.ranges.append((first, last))
    if len(session.data) < session.total:
        return _session_answer(state, session)
    video_id = f"fakeVid{next(state.ids):04d}"
    snippet = dict(session.metadata.get("snippet", {}))
    status = dict(session.metadata.get("status", {}))
    state.videos[video_id] = {
        "kind": "youtube#video",
        "etag": "fake-etag",
        "id": video_id,
        "snippet": snippet | {"publishedAt": _now(), "channelId": "UCfakeChannel", "channelTitle": "Fake channel"},
        "status": {"uploadStatus": "uploaded", "license": "youtube", "embeddable": True} | status,
    }
    session.video_id = video_id
    return 200, state.videos[video_id], ()


def _make_certificates(folder: Path) -> tuple[Path, Path]:
    """A throwaway CA (``ca.pem``) and a server certificate for 127.0.0.1 signed by it; returns (cert, key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reelflow fake YouTube CA")])
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
    certificate, key = folder / "server.pem", folder / "server.key"
    certificate.write_bytes(server_certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certificate, key
