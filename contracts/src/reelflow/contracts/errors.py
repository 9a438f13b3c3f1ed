"""The closed set of error codes a job or script can fail with, and the error body that carries one."""

from enum import StrEnum
from typing import Any

from pydantic import Field

from reelflow.contracts._base import Contract


class ErrorCode(StrEnum):
    INVALID_SCRIPT = "INVALID_SCRIPT"
    LLM_FAILED = "LLM_FAILED"
    TTS_FAILED = "TTS_FAILED"
    VISUAL_FAILED = "VISUAL_FAILED"
    MEDIA_INVALID = "MEDIA_INVALID"
    RENDER_FAILED = "RENDER_FAILED"
    STORAGE_UPLOAD_FAILED = "STORAGE_UPLOAD_FAILED"
    PUBLISH_FAILED = "PUBLISH_FAILED"
    CANCELED = "CANCELED"
    TIMEOUT = "TIMEOUT"
    INTERNAL = "INTERNAL"


class ErrorInfo(Contract):
    """What went wrong, in words a person can act on, and at which step."""

    code: ErrorCode
    message: str = Field(min_length=1)
    step: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ApiErrorCode(StrEnum):
    """HTTP-level failures of the gateway API that are not a job's or script's failure."""

    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    CONFLICT = "CONFLICT"
    NOT_READY = "NOT_READY"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RANGE_NOT_SATISFIABLE = "RANGE_NOT_SATISFIABLE"  # a Range header that starts past the end of the file
    UNAVAILABLE = "UNAVAILABLE"  # a dependency (MongoDB, S3) cannot be reached right now; nothing was changed
    UNAUTHENTICATED = "UNAUTHENTICATED"  # no credentials, or ones that are wrong, expired or revoked
    FORBIDDEN = "FORBIDDEN"  # the caller is known but may not do this (a scope, admin, or a missing CSRF token)
    RATE_LIMITED = "RATE_LIMITED"  # too many requests in the window; Retry-After says when to try again
    # The Spring backend, asked for a render spec, could not be reached (or is not configured); nothing started.
    BACKEND_UNAVAILABLE = "BACKEND_UNAVAILABLE"
    BACKEND_TIMEOUT = "BACKEND_TIMEOUT"  # the backend did not answer within BACKEND_TIMEOUT_SEC; nothing started
    BACKEND_FAILED = "BACKEND_FAILED"  # the backend answered with an error (5xx, 401/403) or no JSON; nothing started
    # Google (OAuth or the YouTube API), asked to connect a channel, failed or did not answer; nothing was stored.
    YOUTUBE_FAILED = "YOUTUBE_FAILED"
    YOUTUBE_TIMEOUT = "YOUTUBE_TIMEOUT"
    OAUTH_FAILED = "OAUTH_FAILED"  # an OAuth callback with an unknown, expired or used state, or a refused consent
    NOT_CONFIGURED = "NOT_CONFIGURED"  # the install has not turned this feature on; the message names the setting
