"""Why the gateway refuses or cannot serve a request: typed errors, each naming its API error code.

They extend the runtime's :class:`ReelflowError`, so every failure a route can meet (a refusal here, or a step's
error such as ``MediaInvalidError``) goes through the one table in ``reelflow.gateway.api.errors`` that picks the
HTTP status. Routes and commands raise; they never choose a status code. A refusal means nothing happened.
"""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from reelflow.contracts.errors import ApiErrorCode, ErrorCode, ErrorInfo
from reelflow.contracts.validation import describe_problems
from reelflow.runtime.failures import ReelflowError


class GatewayError(ReelflowError):
    """A request the gateway did not carry out; ``api_code`` names why, and the message is written for the caller."""

    api_code: ClassVar[ApiErrorCode]

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, retryable=False, details=details)

    @property
    def public_code(self) -> ApiErrorCode | ErrorCode:
        """The code the caller reads in ``error.code``."""
        return self.api_code

    @property
    def response_headers(self) -> Mapping[str, str]:
        """Headers the answer must carry besides the error body (HTTP requires some, e.g. on a 416)."""
        return {}


class NotFoundError(GatewayError):
    api_code = ApiErrorCode.NOT_FOUND


class NoRenderJobYetError(NotFoundError):
    """A video followed for progress got no render job within the time a follower may wait for one."""

    def __init__(self, video_id: str, waited_sec: float) -> None:
        super().__init__(
            f"video {video_id} got no render job within {waited_sec:g} s; start one, then follow it again",
            details={"video_id": video_id},
        )


class ConflictError(GatewayError):
    """The request does not fit the current state (a stale version, an ended job, another active job)."""

    api_code = ApiErrorCode.CONFLICT


class NotReadyError(GatewayError):
    """What was asked for is still being made (a script being written); asking again later will work."""

    api_code = ApiErrorCode.NOT_READY


class InvalidRequestError(GatewayError):
    """The request itself is wrong; ``details.problems`` names each field and what to change."""

    api_code = ApiErrorCode.VALIDATION_FAILED

    @classmethod
    def of(cls, problems: Sequence[Mapping[str, Any]], *, message: str | None = None) -> "InvalidRequestError":
        """One refusal for all ``problems`` (``{field, problem, ...}``), so every one can be fixed at once."""
        listed = [dict(problem) for problem in problems]
        return cls(message or describe_problems(listed), details={"problems": listed})


class UnauthenticatedError(GatewayError):
    """No credentials, or ones the gateway does not accept; the message says which way to sign in."""

    api_code = ApiErrorCode.UNAUTHENTICATED

    @property
    def response_headers(self) -> Mapping[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="reelflow"'}


class ForbiddenError(GatewayError):
    """The caller is known but may not do this: a scope its key lacks, an admin-only route, a missing CSRF token."""

    api_code = ApiErrorCode.FORBIDDEN


class RateLimitedError(GatewayError):
    """Too many requests from one caller in the current window; ``retry_after_sec`` says when the next one is let in."""

    api_code = ApiErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after_sec: int) -> None:
        super().__init__(message, details={"retry_after_sec": retry_after_sec})
        self.retry_after_sec = retry_after_sec
        self.retryable = True

    @property
    def response_headers(self) -> Mapping[str, str]:
        return {"Retry-After": str(self.retry_after_sec)}


class PayloadTooLargeError(GatewayError):
    api_code = ApiErrorCode.PAYLOAD_TOO_LARGE


class UnsupportedMediaTypeError(GatewayError):
    api_code = ApiErrorCode.UNSUPPORTED_MEDIA_TYPE


class RangeNotSatisfiableError(GatewayError):
    """A ``Range`` that names no byte of the file; the answer says how long the file is (``Content-Range``)."""

    api_code = ApiErrorCode.RANGE_NOT_SATISFIABLE

    def __init__(self, requested: str, size_bytes: int) -> None:
        super().__init__(
            f"range {requested!r} is outside the file, which has {size_bytes} bytes (0-{max(size_bytes - 1, 0)})",
            details={"range": requested, "size_bytes": size_bytes},
        )
        self.size_bytes = size_bytes

    @property
    def response_headers(self) -> Mapping[str, str]:
        return {"Content-Range": f"bytes */{self.size_bytes}"}


class DependencyUnavailableError(GatewayError):
    """MongoDB or S3 cannot be reached right now; nothing was changed, and the same request may be sent again."""

    api_code = ApiErrorCode.UNAVAILABLE

    def __init__(self, dependency: str, *, what: str = "") -> None:
        doing = f" while {what}" if what else ""
        super().__init__(
            f"{dependency} is unavailable{doing}; nothing was changed, try again shortly",
            details={"dependency": dependency},
        )
        self.retryable = True


class ScriptWritingFailedError(GatewayError):
    """The script asked for could not be written; the caller gets the failure as the script service reported it."""

    api_code = ApiErrorCode.VALIDATION_FAILED

    def __init__(self, failure: ErrorInfo) -> None:
        super().__init__(failure.message, details=failure.details)
        self.failure = failure

    @property
    def public_code(self) -> ApiErrorCode | ErrorCode:
        return self.failure.code


class BackendError(GatewayError):
    """The Spring backend could not give what a compatibility route needs from it; nothing was started."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        self.retryable = True


class BackendUnavailableError(BackendError):
    """The backend cannot be reached (refused, unresolvable), or this gateway was given no BACKEND_BASE_URL."""

    api_code = ApiErrorCode.BACKEND_UNAVAILABLE


class BackendTimeoutError(BackendError):
    """The backend did not answer within BACKEND_TIMEOUT_SEC."""

    api_code = ApiErrorCode.BACKEND_TIMEOUT


class BackendFailedError(BackendError):
    """The backend answered, but with an error status or a body that is not JSON."""

    api_code = ApiErrorCode.BACKEND_FAILED


class NotConfiguredError(GatewayError):
    """A feature this install has not turned on; the message names the setting that does."""

    api_code = ApiErrorCode.NOT_CONFIGURED


class OAuthRefusedError(GatewayError):
    """An OAuth callback that cannot finish: an unknown, expired or used state, or consent that was refused."""

    api_code = ApiErrorCode.OAUTH_FAILED


class YouTubeFailedError(GatewayError):
    """Google's token endpoint or the YouTube API answered with an error, or with something unreadable."""

    api_code = ApiErrorCode.YOUTUBE_FAILED


class YouTubeTimeoutError(GatewayError):
    """Google did not answer within REELFLOW_YOUTUBE_TIMEOUT_SEC (or could not be reached)."""

    api_code = ApiErrorCode.YOUTUBE_TIMEOUT
