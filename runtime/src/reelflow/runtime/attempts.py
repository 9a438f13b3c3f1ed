"""Which job attempts are finished: the bus-wide record that makes jobs move only forward.

Every terminal event (``rf.render.completed``, ``rf.render.failed``, ``rf.render.cancel``) first *claims* its
attempt here. The claim is atomic (a JetStream key-value ``create``), so exactly one terminal outcome wins per
``(job_id, attempt)``; the loser is never published. Services look an attempt up before they work on a message
and before they publish, so a late redelivery or a duplicate request of a finished attempt is acked and dropped.
"""

import dataclasses
import hashlib
import json
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from reelflow.contracts import TERMINAL_STATUSES, JobStatus

ATTEMPTS_BUCKET = "REELFLOW_ATTEMPTS"
# Longer than the stream keeps messages (7 days), so no message can outlive the record of its attempt.
ATTEMPTS_TTL_SEC = 14 * 24 * 3600.0
_SAFE_KEY_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ClaimOutcome(StrEnum):
    WON = "WON"  # this caller finished the attempt: publish the terminal event, then mark it published
    OURS_UNPUBLISHED = "OURS_UNPUBLISHED"  # an earlier try claimed the same outcome but did not publish
    OURS_PUBLISHED = "OURS_PUBLISHED"  # the same outcome was claimed and published before: nothing to do
    LOST = "LOST"  # another outcome finished the attempt first: do not publish


@dataclass(frozen=True)
class AttemptRecord:
    status: JobStatus
    published: bool
    # When the outcome was claimed (Unix seconds; None in records written before it was kept): where to start
    # looking for a terminal event that may have been stored although its publisher never heard so.
    claimed_at: float | None = None

    def encode(self) -> bytes:
        return json.dumps(
            {"status": self.status.value, "published": self.published, "claimed_at": self.claimed_at}
        ).encode()

    @classmethod
    def decode(cls, data: bytes | None) -> "AttemptRecord":
        parsed = json.loads(data or b"{}")
        claimed_at = parsed.get("claimed_at")
        return cls(
            status=JobStatus(parsed["status"]),
            published=bool(parsed.get("published", False)),
            claimed_at=float(claimed_at) if claimed_at is not None else None,
        )

    @classmethod
    def claimed_now(cls, status: JobStatus) -> "AttemptRecord":
        return cls(status=status, published=False, claimed_at=time.time())

    def as_published(self) -> "AttemptRecord":
        return dataclasses.replace(self, published=True)


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    record: AttemptRecord
    revision: int

    @property
    def should_publish(self) -> bool:
        return self.outcome in (ClaimOutcome.WON, ClaimOutcome.OURS_UNPUBLISHED)


def attempt_key(job_id: str, attempt: int) -> str:
    """A key-value key for the attempt; job ids with characters NATS keys refuse are hashed."""
    part = job_id if _SAFE_KEY_PART.match(job_id) else "h" + hashlib.sha256(job_id.encode()).hexdigest()[:40]
    return f"{part}.{attempt}"


class AttemptStates(Protocol):
    async def finished(self, job_id: str, attempt: int) -> JobStatus | None:
        """The attempt's terminal status, or None while it may still run."""
        ...

    async def claim(self, job_id: str, attempt: int, status: JobStatus) -> Claim: ...

    async def mark_published(self, job_id: str, attempt: int, claim: Claim) -> None: ...


def _outcome_for(existing: AttemptRecord, wanted: JobStatus) -> ClaimOutcome:
    if existing.status != wanted:
        return ClaimOutcome.LOST
    return ClaimOutcome.OURS_PUBLISHED if existing.published else ClaimOutcome.OURS_UNPUBLISHED


def _require_terminal(status: JobStatus) -> None:
    if status not in TERMINAL_STATUSES:
        raise ValueError(f"only a terminal status finishes an attempt, not {status}")


class KeyValueAttemptStates:
    """The record in a JetStream key-value bucket, shared by every service and replica."""

    def __init__(self, bucket: KeyValue) -> None:
        self._bucket = bucket

    async def _read(self, key: str) -> tuple[AttemptRecord, int] | None:
        try:
            entry = await self._bucket.get(key)
        except KeyNotFoundError:
            return None
        return AttemptRecord.decode(entry.value), entry.revision or 0

    async def finished(self, job_id: str, attempt: int) -> JobStatus | None:
        found = await self._read(attempt_key(job_id, attempt))
        return None if found is None else found[0].status

    async def claim(self, job_id: str, attempt: int, status: JobStatus) -> Claim:
        _require_terminal(status)
        key = attempt_key(job_id, attempt)
        record = AttemptRecord.claimed_now(status)
        try:
            revision = await self._bucket.create(key, record.encode())
        except KeyWrongLastSequenceError:
            found = await self._read(key)
            if found is None:  # deleted between the two calls: nobody holds it, so try once more
                return await self.claim(job_id, attempt, status)
            existing, existing_revision = found
            return Claim(_outcome_for(existing, status), existing, existing_revision)
        return Claim(ClaimOutcome.WON, record, revision)

    async def mark_published(self, job_id: str, attempt: int, claim: Claim) -> None:
        try:
            await self._bucket.update(
                attempt_key(job_id, attempt), claim.record.as_published().encode(), last=claim.revision
            )
        except KeyWrongLastSequenceError:
            return  # someone marked it already


class InMemoryAttemptStates:
    """The same rules in one process: for handler tests on FastStream's in-memory broker."""

    def __init__(self) -> None:
        self._records: dict[str, AttemptRecord] = {}

    async def finished(self, job_id: str, attempt: int) -> JobStatus | None:
        record = self._records.get(attempt_key(job_id, attempt))
        return None if record is None else record.status

    async def claim(self, job_id: str, attempt: int, status: JobStatus) -> Claim:
        _require_terminal(status)
        key = attempt_key(job_id, attempt)
        existing = self._records.get(key)
        if existing is not None:
            return Claim(_outcome_for(existing, status), existing, 0)
        record = AttemptRecord.claimed_now(status)
        self._records[key] = record
        return Claim(ClaimOutcome.WON, record, 0)

    async def mark_published(self, job_id: str, attempt: int, claim: Claim) -> None:
        self._records[attempt_key(job_id, attempt)] = claim.record.as_published()
