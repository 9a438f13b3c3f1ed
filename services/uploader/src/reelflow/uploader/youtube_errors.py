"""What a failed YouTube call means: try again now, later, or never, and what a person should do about it.

Google answers errors as ``{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}``; the
``reason`` decides. 5xx, 429 and the rate-limit reasons pass soon; a used-up quota passes at midnight Pacific
time; every other 4xx needs a person.
"""

import http.client
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError

from reelflow.runtime.failures import PublishError

# YouTube's daily quota resets at midnight Pacific time.
QUOTA_TIMEZONE = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
# A channel may upload only so many videos through the API in 24 hours (a rolling window).
UPLOAD_LIMIT_REASON = "uploadLimitExceeded"
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
NETWORK_ERRORS = (httplib2.HttpLib2Error, http.client.HTTPException, TransportError, OSError)

# Advice for refusals a person can fix, by reason.
_ADVICE = {
    "insufficientPermissions": "the refresh token lacks a scope; connect the channel again, granting "
    "youtube.upload and youtube.force-ssl",
    "youtubeSignupRequired": "the Google account has no YouTube channel yet; create one, then retry the job",
    "forbidden": "the channel may not do this (custom thumbnails need a verified channel: youtube.com/verify)",
    "invalidTitle": "fix spec.publish.title",
    "invalidDescription": "fix spec.publish.description",
    "invalidTags": "fix spec.publish.tags",
    "invalidCategoryId": "fix spec.publish.category_id (a YouTube video category id, e.g. 27)",
    "invalidPublishAt": "fix spec.publish.publish_at (a time in the future)",
    "defaultLanguageNotSet": "set spec.publish.default_language",
    "mediaBodyRequired": "the video file was empty",
}


@dataclass(frozen=True)
class GoogleError:
    status: int
    reason: str
    message: str


def google_error(error: HttpError) -> GoogleError:
    """Status, first ``reason`` and message of an API error; whatever the body, never raises."""
    status = int(error.resp.status)
    reason, message = "", str(getattr(error, "reason", "") or "")
    try:
        body = json.loads(error.content.decode("utf-8"))
        details = body["error"]
        message = str(details.get("message") or message)
        reasons = [str(item.get("reason", "")) for item in details.get("errors", []) if isinstance(item, dict)]
        reason = next((r for r in reasons if r), "") or str(details.get("status", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return GoogleError(status=status, reason=reason, message=message.strip())


def describe(error: BaseException) -> str:
    """A short account of the error for logs: an API error's URI is left out (a resumable session's URI lets
    anyone holding it upload into the session)."""
    if isinstance(error, HttpError):
        found = google_error(error)
        return f"HttpError {found.status} {found.reason or 'error'}: {found.message}"
    return f"{type(error).__name__}: {error}"


def is_transient(error: BaseException) -> bool:
    """Worth trying again within the step: the server or the network, not the request."""
    if isinstance(error, HttpError):
        found = google_error(error)
        return found.status >= 500 or found.status == 429 or found.reason in RATE_LIMIT_REASONS
    if isinstance(error, RefreshError):
        return bool(error.retryable)
    return isinstance(error, NETWORK_ERRORS)


def next_quota_reset(now: datetime) -> datetime:
    """The next midnight in Pacific time, in UTC."""
    pacific = now.astimezone(QUOTA_TIMEZONE)
    midnight = datetime.combine(pacific.date() + timedelta(days=1), datetime.min.time(), tzinfo=QUOTA_TIMEZONE)
    return midnight.astimezone(UTC)


def _hours_until(moment: datetime, now: datetime) -> str:
    hours = max(0.0, (moment - now).total_seconds() / 3600)
    return f"{moment:%Y-%m-%d %H:%M} UTC, in about {hours:.0f} h" if hours >= 1 else f"{moment:%H:%M} UTC"


def publish_error(what: str, error: BaseException, *, now: datetime, tries: int = 1) -> PublishError:
    """The failure the job reports for ``error`` raised while doing ``what`` (after ``tries`` tries)."""
    if isinstance(error, RefreshError):
        if error.retryable:
            return PublishError(f"{what}: Google's token endpoint is unavailable ({error}) after {tries} tries")
        return PublishError(
            f"{what}: Google refused the channel's refresh token ({error}); it was revoked or has expired, so "
            "connect the channel again (a new REELFLOW_YOUTUBE_REFRESH_TOKEN), then retry the job",
            retryable=False,
        )
    if not isinstance(error, HttpError):
        return PublishError(
            f"{what}: network error talking to YouTube ({describe(error)}) after {tries} tries; "
            "the upload continues where it stopped on the next delivery"
        )
    found = google_error(error)
    details = {"status": found.status, "reason": found.reason}
    if found.reason in QUOTA_REASONS:
        reset = next_quota_reset(now)
        return PublishError(
            f"{what}: the YouTube Data API quota of the Google Cloud project is used up ({found.reason}). It resets "
            f"at midnight Pacific time ({_hours_until(reset, now)}); retry the job after that, or ask Google for "
            "more quota",
            retryable=False,
            details=details | {"retry_after": reset.isoformat()},
        )
    if found.reason == UPLOAD_LIMIT_REASON:
        after = now + timedelta(hours=24)
        return PublishError(
            f"{what}: the channel reached YouTube's limit of uploads per 24 hours ({found.reason}); retry the job "
            f"after {_hours_until(after, now)}",
            retryable=False,
            details=details | {"retry_after": after.isoformat()},
        )
    if is_transient(error):
        return PublishError(
            f"{what}: YouTube is unavailable ({found.status} {found.reason or 'error'}: {found.message}) after "
            f"{tries} tries; the upload continues where it stopped on the next delivery",
            details=details,
        )
    if found.status == 401:
        advice = "the channel's authorization was refused; connect the channel again, then retry the job"
    else:
        advice = _ADVICE.get(found.reason, "fix the request, then retry the job")
    return PublishError(
        f"{what}: YouTube refused it ({found.status} {found.reason or 'error'}: {found.message}); {advice}",
        retryable=False,
        details=details,
    )
