"""What a failed YouTube call means: transient or not, the quota reset, and the message a person reads."""

import json
from datetime import UTC, datetime

import httplib2
import pytest
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError

from reelflow.uploader.youtube_errors import describe, google_error, is_transient, next_quota_reset, publish_error

NOW = datetime(2026, 7, 1, 20, 0, tzinfo=UTC)  # 13:00 in Los Angeles (PDT, UTC-7)
SESSION_URI = "https://youtube.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=SECRET"


def http_error(status: int, reason: str = "", message: str = "boom", domain: str = "youtube.video") -> HttpError:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }
    response = httplib2.Response({"status": str(status)})
    response.reason = "Reason"
    return HttpError(response, json.dumps(body).encode(), uri=SESSION_URI)


def refresh_error(message: str, *, retryable: bool = False) -> RefreshError:
    return RefreshError(message, retryable=retryable)  # type: ignore[no-untyped-call]  # google-auth: untyped


def test_the_reason_and_message_come_from_googles_error_body() -> None:
    found = google_error(http_error(403, "quotaExceeded", "over quota", "youtube.quota"))
    assert (found.status, found.reason, found.message) == (403, "quotaExceeded", "over quota")


def test_a_body_that_is_not_googles_shape_still_reads() -> None:
    response = httplib2.Response({"status": "502"})
    response.reason = "Bad Gateway"
    found = google_error(HttpError(response, b"<html>bad gateway</html>", uri=SESSION_URI))
    assert (found.status, found.reason) == (502, "")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (http_error(500, "backendError"), True),
        (http_error(503), True),
        (http_error(429, "rateLimitExceeded"), True),
        (http_error(403, "userRateLimitExceeded"), True),
        (http_error(403, "quotaExceeded", domain="youtube.quota"), False),
        (http_error(400, "uploadLimitExceeded"), False),
        (http_error(400, "invalidTitle"), False),
        (http_error(401, "authError"), False),
        (TimeoutError("timed out"), True),
        (ConnectionResetError(), True),
        (httplib2.ServerNotFoundError("no such host"), True),
        (TransportError("connection refused"), True),  # type: ignore[no-untyped-call]
        (refresh_error("invalid_grant: Token has been expired or revoked."), False),
        (refresh_error("internal_failure", retryable=True), True),
        (ValueError("a bug"), False),
    ],
)
def test_what_is_worth_trying_again(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_the_quota_resets_at_the_next_midnight_pacific_time() -> None:
    assert next_quota_reset(NOW) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)  # PDT
    assert next_quota_reset(datetime(2026, 1, 15, 7, 59, tzinfo=UTC)) == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    assert next_quota_reset(datetime(2026, 1, 15, 8, 0, tzinfo=UTC)) == datetime(2026, 1, 16, 8, 0, tzinfo=UTC)


def test_a_used_up_quota_says_when_to_retry_and_is_not_retried() -> None:
    failure = publish_error("uploading the video", http_error(403, "quotaExceeded", domain="youtube.quota"), now=NOW)
    assert failure.retryable is False
    assert "quota" in failure.message
    assert "midnight Pacific time (2026-07-02 07:00 UTC, in about 11 h)" in failure.message
    assert failure.details == {"status": 403, "reason": "quotaExceeded", "retry_after": "2026-07-02T07:00:00+00:00"}


def test_the_channels_upload_limit_says_24_hours() -> None:
    failure = publish_error("uploading the video", http_error(400, "uploadLimitExceeded"), now=NOW)
    assert failure.retryable is False
    assert "retry the job after 2026-07-02 20:00 UTC" in failure.message


def test_a_transient_failure_left_after_the_retries_goes_back_to_the_bus() -> None:
    failure = publish_error("uploading the video", http_error(503, "backendError"), now=NOW, tries=5)
    assert failure.retryable is True
    assert "after 5 tries" in failure.message
    assert "continues where it stopped" in failure.message


def test_a_refusal_says_what_to_fix() -> None:
    failure = publish_error("uploading the video", http_error(400, "invalidPublishAt", "bad time"), now=NOW)
    assert failure.retryable is False
    assert failure.message == (
        "uploading the video: YouTube refused it (400 invalidPublishAt: bad time); "
        "fix spec.publish.publish_at (a time in the future)"
    )


def test_an_unknown_refusal_still_names_status_reason_and_message() -> None:
    failure = publish_error("adding the captions", http_error(409, "captionExists", "already there"), now=NOW)
    assert failure.retryable is False
    assert "409 captionExists: already there" in failure.message


def test_a_revoked_refresh_token_asks_to_connect_the_channel_again() -> None:
    failure = publish_error("x", refresh_error("invalid_grant: Token has been expired or revoked."), now=NOW)
    assert failure.retryable is False
    assert "connect the channel again" in failure.message


def test_the_session_uri_never_reaches_a_log_or_a_message() -> None:
    error = http_error(503, "backendError")
    assert "SECRET" in str(error), "the library itself puts the URI in str()"
    assert "SECRET" not in describe(error)
    assert "SECRET" not in publish_error("uploading the video", error, now=NOW).message
