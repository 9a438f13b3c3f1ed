"""The backstop for scratch cleanup: a periodic sweep of the work bucket for attempts that ended long ago.

Cleanup normally runs on each attempt's terminal event. What it can miss: files a canceled step wrote after the
cleanup ran, a cleanup that kept failing, scratch of a crashed backend job. The sweep works on any S3 server
(no lifecycle-rule support needed) and only ever deletes attempts that are finished, or idle far longer than
any step may run.
"""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from reelflow.contracts import JobStatus
from reelflow.runtime.attempts import AttemptStates
from reelflow.runtime.blobs import BlobListing, BlobStore, work_prefix
from reelflow.storage.settings import StorageSettings

log = structlog.get_logger("reelflow.storage.sweep")
SCRATCH_ROOT = "jobs/"


@dataclass(frozen=True)
class ScratchAttempt:
    job_id: str
    attempt: int
    last_modified: datetime


def scratch_attempts(listings: Iterable[BlobListing]) -> list[ScratchAttempt]:
    """Group work-bucket keys ``jobs/{job_id}/{attempt}/…`` by attempt, with the newest write of each."""
    found: dict[tuple[str, int], datetime] = {}
    for listing in listings:
        parts = listing.key.split("/")
        if len(parts) < 4 or parts[0] != "jobs" or not parts[2].isdigit():
            continue
        key = (parts[1], int(parts[2]))
        previous = found.get(key)
        found[key] = listing.modified if previous is None else max(previous, listing.modified)
    return [ScratchAttempt(job_id, attempt, modified) for (job_id, attempt), modified in sorted(found.items())]


def should_sweep(
    status: JobStatus | None, last_modified: datetime, *, now: datetime, ended_age_sec: float, idle_age_sec: float
) -> bool:
    """An ended attempt's scratch goes once it is ``ended_age_sec`` old; any other once idle ``idle_age_sec``."""
    age = (now - last_modified).total_seconds()
    return age >= (ended_age_sec if status is not None else idle_age_sec)


async def sweep_scratch(
    *, blobs: BlobStore, attempts: AttemptStates, settings: StorageSettings, now: datetime
) -> list[ScratchAttempt]:
    """Delete the scratch of every attempt :func:`should_sweep` picks; returns what was swept."""
    swept = []
    for found in scratch_attempts(await blobs.list_keys(settings.work_bucket, SCRATCH_ROOT)):
        status = await attempts.finished(found.job_id, found.attempt)
        if should_sweep(
            status,
            found.last_modified,
            now=now,
            ended_age_sec=settings.scratch_sweep_ended_age_sec,
            idle_age_sec=settings.scratch_sweep_idle_age_sec,
        ):
            await blobs.delete_prefix(settings.work_bucket, work_prefix(found.job_id, found.attempt))
            swept.append(found)
    if swept:
        log.info("scratch swept", attempts=len(swept))
    return swept


async def sweep_forever(*, blobs: BlobStore, attempts: AttemptStates, settings: StorageSettings) -> None:
    """Sweep every ``scratch_sweep_interval_sec``; a failed sweep is logged and tried again next time."""
    while True:
        await asyncio.sleep(settings.scratch_sweep_interval_sec)
        try:
            await sweep_scratch(blobs=blobs, attempts=attempts, settings=settings, now=datetime.now(UTC))
        except Exception as error:
            log.warning("scratch sweep failed; will try again", error=f"{type(error).__name__}: {error}")
