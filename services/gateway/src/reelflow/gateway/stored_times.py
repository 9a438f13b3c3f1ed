"""Times in account, ownership and rate-limit documents, stored as epoch seconds.

The MongoDB-wire server here keeps a datetime given to ``$set`` as a string, which neither reads back as a time
nor compares with one in a query; a float does both, on it and on MongoDB alike.
"""

from datetime import UTC, datetime


def epoch_now() -> float:
    return datetime.now(UTC).timestamp()


def time_of(stored: object) -> datetime | None:
    """A stored time back as an aware datetime (epoch seconds, a datetime, or an ISO string from older writes)."""
    if stored is None:
        return None
    if isinstance(stored, datetime):
        return stored if stored.tzinfo else stored.replace(tzinfo=UTC)
    if isinstance(stored, int | float):
        return datetime.fromtimestamp(stored, UTC)
    if isinstance(stored, str):
        return time_of(datetime.fromisoformat(stored))
    raise TypeError(f"not a stored time: {stored!r}")


def required_time_of(stored: object) -> datetime:
    found = time_of(stored)
    if found is None:
        raise TypeError("a required time is missing")
    return found
