"""Every API failure as ``{"error": {"code", "message", "details"}}``, with its HTTP status chosen in ONE place.

:data:`STATUS_BY_ERROR` maps error types to statuses (the nearest class in an error's MRO wins); routes and
commands raise typed errors and never pick a status. A failure of a dependency is a 503 ``UNAVAILABLE`` naming
the dependency; anything unexpected is a 500 ``INTERNAL`` whose message carries only a trace id. Messages never
carry exception text from a client library (it may name internal hosts); the log keeps the detail.

A WebSocket route raises the same errors. It is accepted before its checks, so a refusal closes it, with the code
:data:`CLOSE_CODE_BY_ERROR` gives and the same caller-facing message as the reason.
"""

import contextlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.websockets import WebSocket
from opentelemetry import trace
from pydantic import BaseModel, Field
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.routing import Match
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send
from starlette.websockets import WebSocketState

from reelflow.contracts import ErrorCode, IllegalTransitionError
from reelflow.contracts.errors import ApiErrorCode
from reelflow.contracts.validation import describe_problems, validation_problems
from reelflow.gateway.refusals import (
    BackendFailedError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConflictError,
    DependencyUnavailableError,
    ForbiddenError,
    GatewayError,
    InvalidRequestError,
    NoRenderJobYetError,
    NotConfiguredError,
    NotFoundError,
    NotReadyError,
    OAuthRefusedError,
    PayloadTooLargeError,
    RangeNotSatisfiableError,
    RateLimitedError,
    ScriptWritingFailedError,
    UnauthenticatedError,
    UnsupportedMediaTypeError,
    YouTubeFailedError,
    YouTubeTimeoutError,
)
from reelflow.runtime.failures import (
    BusUnavailableError,
    InvalidScriptError,
    MediaInvalidError,
    ReelflowError,
    StepTimeoutError,
    StorageUploadError,
)

log = structlog.get_logger("reelflow.api")
TRACE_HEADER = "X-Trace-Id"

# The one map from error to HTTP status.
STATUS_BY_ERROR: Mapping[type[Exception], int] = {
    OAuthRefusedError: 400,
    InvalidRequestError: 422,
    RequestValidationError: 422,
    ScriptWritingFailedError: 422,
    MediaInvalidError: 422,
    InvalidScriptError: 422,
    UnauthenticatedError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    IllegalTransitionError: 409,
    NotReadyError: 409,
    PayloadTooLargeError: 413,
    UnsupportedMediaTypeError: 415,
    RangeNotSatisfiableError: 416,
    RateLimitedError: 429,
    StepTimeoutError: 504,
    DependencyUnavailableError: 503,
    BackendFailedError: 502,
    BackendUnavailableError: 503,
    BackendTimeoutError: 504,
    NotConfiguredError: 503,
    YouTubeFailedError: 502,
    YouTubeTimeoutError: 504,
    StorageUploadError: 503,
    BusUnavailableError: 503,
    PyMongoError: 503,
}
# The one map from error to WebSocket close code, for a socket that is already open; any other refusal is a
# policy violation (1008), anything unexpected an internal error (1011).
CLOSE_CODE_BY_ERROR: Mapping[type[Exception], int] = {
    GatewayError: 1008,
    RequestValidationError: 1008,
    NoRenderJobYetError: 4408,  # 4000 + the HTTP status for "timed out waiting"
    UnauthenticatedError: 4401,  # 4000 + the HTTP status, as for the refusals below
    ForbiddenError: 4403,
    NotFoundError: 4404,
    RateLimitedError: 4429,
    DependencyUnavailableError: 1013,  # try again later
    BackendFailedError: 1013,
    BackendUnavailableError: 1013,
    BackendTimeoutError: 1013,
    YouTubeFailedError: 1013,
    YouTubeTimeoutError: 1013,
    StorageUploadError: 1013,
    BusUnavailableError: 1013,
    PyMongoError: 1013,
}
UNEXPECTED_CLOSE_CODE = 1011
# RFC 6455: a close frame's reason is at most 123 bytes of UTF-8.
CLOSE_REASON_MAX_BYTES = 123
# Failures of a dependency whose own message is for the log, not the caller: the caller learns which one.
DEPENDENCY_BY_ERROR: Mapping[type[Exception], str] = {
    StorageUploadError: "the media store (S3)",
    PyMongoError: "MongoDB",
    BusUnavailableError: "NATS",
}
# Step errors whose messages are written for the caller (they describe the caller's file or input).
CALLER_FACING_STEP_ERRORS = (MediaInvalidError, InvalidScriptError, StepTimeoutError)


class ApiErrorInfo(BaseModel):
    code: str = Field(
        description="UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED, VALIDATION_FAILED, CONFLICT, "
        "NOT_READY, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, RANGE_NOT_SATISFIABLE, RATE_LIMITED (see "
        "Retry-After), UNAVAILABLE (a dependency is down; nothing changed), BACKEND_UNAVAILABLE, BACKEND_TIMEOUT or "
        "BACKEND_FAILED (the Spring backend could not give a render spec; nothing started), YOUTUBE_FAILED or "
        "YOUTUBE_TIMEOUT (Google could not connect a channel; nothing stored), OAUTH_FAILED, NOT_CONFIGURED (the "
        "message names the setting), INTERNAL, or a job error code."
    )
    message: str = Field(description="What went wrong and, where there is one, the call that fixes it.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="`problems: [{field, problem}]` for a VALIDATION_FAILED, and more."
    )


class ApiError(BaseModel):
    """The body of every error answer (documented in OpenAPI through ``error_responses``)."""

    error: ApiErrorInfo


# Statuses any route may answer whatever it does: its body is invalid, a dependency is down, or a bug.
COMMON_ERRORS: dict[int, str] = {
    401: "No credentials, or wrong, expired or revoked ones (`UNAUTHENTICATED`): send `Authorization: Bearer "
    "<api key>` or sign in with POST /api/auth/login.",
    403: "The credentials lack the scope this route needs, or a cookie-session request lacks `X-CSRF-Token` "
    "(`FORBIDDEN`).",
    429: "Too many requests from this key or user (`RATE_LIMITED`); `Retry-After` says how many seconds to wait.",
    422: "The request is invalid: `details.problems` names each field and what to change.",
    500: "Unexpected: the message carries a trace id to report; nothing is guaranteed to have happened.",
    503: "MongoDB, S3 or NATS cannot be reached (`UNAVAILABLE`, `details.dependency`); nothing was changed.",
}


def error_responses(descriptions: Mapping[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's error answers (plus :data:`COMMON_ERRORS`), each an :class:`ApiError`."""
    merged = {**COMMON_ERRORS, **(descriptions or {})}
    return {status: {"model": ApiError, "description": text} for status, text in sorted(merged.items())}


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": dict(details or {})}}


@dataclass(frozen=True)
class ApiFailure:
    status: int
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # what the status itself requires (a 416's Content-Range)

    def response(self, headers: Mapping[str, str] | None = None) -> JSONResponse:
        return JSONResponse(
            error_body(self.code, self.message, self.details),
            status_code=self.status,
            headers={**self.headers, **(headers or {})},
        )


def status_of(error: BaseException) -> int | None:
    """The status :data:`STATUS_BY_ERROR` gives ``error``'s nearest type; None when it is unexpected."""
    return next((STATUS_BY_ERROR[kind] for kind in type(error).__mro__ if kind in STATUS_BY_ERROR), None)


def close_code_of(error: BaseException) -> int:
    """The WebSocket close code :data:`CLOSE_CODE_BY_ERROR` gives ``error``'s nearest type."""
    return next(
        (CLOSE_CODE_BY_ERROR[kind] for kind in type(error).__mro__ if kind in CLOSE_CODE_BY_ERROR),
        UNEXPECTED_CLOSE_CODE,
    )


def close_reason(message: str) -> str:
    """``message`` cut to fit a close frame, never inside a character."""
    encoded = message.encode()
    if len(encoded) <= CLOSE_REASON_MAX_BYTES:
        return message
    return encoded[: CLOSE_REASON_MAX_BYTES - 3].decode(errors="ignore") + "..."


def _dependency_of(error: BaseException) -> str | None:
    return next((DEPENDENCY_BY_ERROR[kind] for kind in type(error).__mro__ if kind in DEPENDENCY_BY_ERROR), None)


def current_trace_id() -> str:
    """The request's trace id when a span is active, else a fresh id that ties the answer to its log line."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else uuid.uuid4().hex


def unexpected_failure(trace_id: str) -> ApiFailure:
    return ApiFailure(
        500,
        ErrorCode.INTERNAL,
        f"unexpected error; it was logged with trace id {trace_id}: quote it when reporting the problem",
        {"trace_id": trace_id},
    )


def failure_of(error: BaseException, *, trace_id: str) -> ApiFailure:
    """How the API answers ``error``: its status from the one map, a code, and a message fit for the caller."""
    status = status_of(error)
    if status is None:
        return unexpected_failure(trace_id)
    dependency = _dependency_of(error)
    if dependency is not None:
        unavailable = DependencyUnavailableError(dependency)
        return ApiFailure(status, unavailable.public_code, unavailable.message, unavailable.details)
    if isinstance(error, GatewayError):
        return ApiFailure(status, error.public_code, error.message, error.details, dict(error.response_headers))
    if isinstance(error, RequestValidationError):
        problems = validation_problems(error.errors())
        return ApiFailure(status, ApiErrorCode.VALIDATION_FAILED, describe_problems(problems), {"problems": problems})
    if isinstance(error, IllegalTransitionError):
        return ApiFailure(status, ApiErrorCode.CONFLICT, str(error))
    if isinstance(error, CALLER_FACING_STEP_ERRORS):
        return ApiFailure(status, error.code, error.message, error.details)
    if isinstance(error, ReelflowError):
        return ApiFailure(status, error.code, f"{error.code}: the request could not be carried out (trace {trace_id})")
    return unexpected_failure(trace_id)


def _logged(error: BaseException, failure: ApiFailure, request: HTTPConnection, trace_id: str) -> None:
    method = request.scope.get("method", "WEBSOCKET")
    where = {"method": method, "path": request.url.path, "trace_id": trace_id, "status": failure.status}
    if failure.status >= 500:
        log.error(
            "request failed", code=failure.code, error=f"{type(error).__name__}: {error}", exc_info=error, **where
        )
    else:
        log.info("request refused", code=failure.code, **where)


async def _answer(request: HTTPConnection, error: Exception) -> JSONResponse:
    trace_id = current_trace_id()
    failure = failure_of(error, trace_id=trace_id)
    _logged(error, failure, request, trace_id)
    return failure.response({TRACE_HEADER: trace_id})


async def _close_refused(websocket: WebSocket, error: Exception) -> None:
    """A WebSocket route's refusal: the socket closes with the error's code and its caller-facing message."""
    trace_id = current_trace_id()
    failure = failure_of(error, trace_id=trace_id)
    _logged(error, failure, websocket, trace_id)
    if websocket.client_state is WebSocketState.CONNECTING:
        # Refused during the handshake (credentials, ownership): accepted first, so the client reads the code and
        # the reason instead of a bare HTTP 403.
        await websocket.accept()
    await websocket.close(code=close_code_of(error), reason=close_reason(failure.message))


async def _answer_or_close(connection: HTTPConnection, error: Exception) -> JSONResponse | None:
    """Starlette calls one handler for both kinds of route: a request gets an answer, a WebSocket is closed."""
    if isinstance(connection, WebSocket):
        await _close_refused(connection, error)
        return None
    return await _answer(connection, error)


HTTP_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(app: Any, scope: Scope) -> list[str]:
    """Every method some route of ``app`` takes on the scope's path (FastAPI makes one route per method)."""
    routes = getattr(getattr(app, "router", None), "routes", [])
    return [
        method
        for method in HTTP_METHODS
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in routes)
    ]


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own refusals: no such route (404), a method the path does not take (405), a body that could not
    be parsed (a 422, like any other invalid body)."""
    status = error.status_code if isinstance(error, HTTPException) else 500
    detail = str(getattr(error, "detail", "")) or "refused"
    headers: dict[str, str] = {}
    code: ApiErrorCode | ErrorCode
    if status == 404:
        code, message = ApiErrorCode.NOT_FOUND, f"no route {request.url.path}"
    elif status == 405:
        allowed = allowed_methods(request.app, request.scope)
        headers["Allow"] = ", ".join(allowed)
        code, message = ApiErrorCode.METHOD_NOT_ALLOWED, f"{request.url.path} takes {', '.join(allowed)}"
    elif status == 400:
        problems = [{"field": "body", "problem": f"{detail}; send a JSON object"}]
        failure = ApiFailure(422, ApiErrorCode.VALIDATION_FAILED, describe_problems(problems), {"problems": problems})
        return failure.response()
    else:
        code, message = (ApiErrorCode.VALIDATION_FAILED if status < 500 else ErrorCode.INTERNAL), detail
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


class UnexpectedErrorMiddleware:
    """The catch-all: an exception no handler took still gets the JSON error shape (500 ``INTERNAL``, a trace id,
    no exception text), and is logged with that trace id. Installed inside Starlette's own error middleware, so the
    exception is answered here and not re-raised into the server's log a second time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as error:
            request = Request(scope)
            trace_id = current_trace_id()
            failure = failure_of(error, trace_id=trace_id)
            _logged(error, failure, request, trace_id)
            if not started:  # a stream that already began can only be cut short
                await failure.response({TRACE_HEADER: trace_id})(scope, receive, send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket whose route failed unexpectedly closes with 1011 and the trace id, if it is still open."""
        open_ = False

        async def send_tracked(message: Message) -> None:
            nonlocal open_
            if message["type"] == "websocket.accept":
                open_ = True
            elif message["type"] == "websocket.close":
                open_ = False
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as error:
            trace_id = current_trace_id()
            failure = failure_of(error, trace_id=trace_id)
            _logged(error, failure, HTTPConnection(scope), trace_id)
            if open_:
                reason = close_reason(failure.message)
                with contextlib.suppress(OSError, RuntimeError):  # the client may be gone already
                    await send({"type": "websocket.close", "code": close_code_of(error), "reason": reason})


def install_error_handlers(app: FastAPI) -> None:
    # Starlette's type names a handler for requests or one for WebSockets; this one takes both, as Starlette calls it.
    answer_or_close = cast(ExceptionHandler, _answer_or_close)
    for kind in STATUS_BY_ERROR:
        app.add_exception_handler(kind, answer_or_close)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(UnexpectedErrorMiddleware)
