"""When a webhook delivery is tried again, and when a failing subscription is given up on (pure; times are epoch
seconds, so tests pass the clock in).

The retry schedule is Standard Webhooks' (and Svix's): the first attempt at once, then 5 s, 5 min, 30 min, 2 h,
5 h, 10 h and 10 h after each failure; a delivery still failing after the last one is failed for good. Any answer
but a 2xx is a failure, except 410 Gone: the receiver says the endpoint is gone, so its subscription is disabled at
once. A subscription whose deliveries have all failed for ``disable_after_sec`` (REELFLOW_WEBHOOK_DISABLE_AFTER_DAYS)
is disabled too, naming why.
"""

from collections.abc import Sequence
from enum import StrEnum

STANDARD_RETRY_DELAYS_SEC: tuple[float, ...] = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
DAY_SEC = 24 * 3600.0


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"  # a 2xx
    RETRY = "retry"  # another status, a network error or a timeout: try again on the schedule
    GONE = "gone"  # 410: the endpoint is gone; stop, and disable its subscription
    REFUSED = "refused"  # the target is not allowed (SSRF) or cannot be signed: trying again changes nothing


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def outcome_of_status(status_code: int) -> AttemptOutcome:
    if 200 <= status_code < 300:
        return AttemptOutcome.DELIVERED
    if status_code == 410:
        return AttemptOutcome.GONE
    return AttemptOutcome.RETRY


def next_attempt_at(attempts_made: int, failed_at: float, delays: Sequence[float]) -> float | None:
    """When attempt ``attempts_made + 1`` is due after attempt ``attempts_made`` failed at ``failed_at``; None when
    the schedule is spent. ``delays[0]`` is the first attempt's (at once), so attempt n+1 waits ``delays[n]``."""
    if attempts_made >= len(delays):
        return None
    return failed_at + delays[attempts_made]


def state_after(outcome: AttemptOutcome, next_at: float | None) -> DeliveryState:
    if outcome is AttemptOutcome.DELIVERED:
        return DeliveryState.DELIVERED
    if outcome is AttemptOutcome.RETRY and next_at is not None:
        return DeliveryState.PENDING
    return DeliveryState.FAILED


def failing_since_after(failing_since: float | None, outcome: AttemptOutcome, at: float) -> float | None:
    """Since when a subscription's deliveries have all failed: reset by any delivered one, started by a failure."""
    if outcome is AttemptOutcome.DELIVERED:
        return None
    return failing_since if failing_since is not None else at


def disabled_reason(
    failing_since: float | None, outcome: AttemptOutcome, at: float, *, disable_after_sec: float
) -> str | None:
    """Why a subscription is disabled after this attempt, or None when it stays enabled."""
    if outcome is AttemptOutcome.GONE:
        return "the endpoint answered 410 Gone"
    if outcome is AttemptOutcome.DELIVERED or failing_since is None:
        return None
    if at - failing_since >= disable_after_sec:
        days = disable_after_sec / DAY_SEC
        return f"every delivery failed for {days:g} days"
    return None
