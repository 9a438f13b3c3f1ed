"""The scratch sweep: which attempts' scratch it removes, and that it removes nothing else."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from reelflow.contracts import JobStatus
from reelflow.runtime.attempts import InMemoryAttemptStates
from reelflow.runtime.blobs import BlobListing, DirectoryBlobStore
from reelflow.storage.scratch_sweep import scratch_attempts, should_sweep, sweep_scratch
from reelflow.storage.settings import StorageSettings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_keys_are_grouped_by_attempt_with_their_newest_write() -> None:
    older, newer = NOW - timedelta(hours=3), NOW - timedelta(hours=1)
    listings = [
        BlobListing("jobs/j1/1/audio/s1.wav", older),
        BlobListing("jobs/j1/1/out/video.mp4", newer),
        BlobListing("jobs/j1/2/narration.json", older),
        BlobListing("jobs/j2", older),  # not an attempt's scratch
        BlobListing("jobs/j3/x/file", older),
        BlobListing("uploads/abc.mp4", older),
    ]
    found = scratch_attempts(listings)
    assert [(a.job_id, a.attempt, a.last_modified) for a in found] == [("j1", 1, newer), ("j1", 2, older)]


def test_ended_attempts_go_after_an_hour_and_others_only_when_long_idle() -> None:
    ages = {"ended": 3600.0, "idle": 48 * 3600.0}
    hour_old = NOW - timedelta(hours=1, seconds=1)
    assert should_sweep(JobStatus.CANCELED, hour_old, now=NOW, ended_age_sec=ages["ended"], idle_age_sec=ages["idle"])
    assert not should_sweep(None, hour_old, now=NOW, ended_age_sec=ages["ended"], idle_age_sec=ages["idle"])
    two_days_old = NOW - timedelta(days=2, seconds=1)
    assert should_sweep(None, two_days_old, now=NOW, ended_age_sec=ages["ended"], idle_age_sec=ages["idle"])
    fresh = NOW - timedelta(minutes=5)
    assert not should_sweep(JobStatus.FAILED, fresh, now=NOW, ended_age_sec=ages["ended"], idle_age_sec=ages["idle"])


async def test_the_sweep_removes_only_old_scratch_of_ended_attempts(tmp_path: Path) -> None:
    blobs = DirectoryBlobStore(tmp_path)
    settings = StorageSettings()
    attempts = InMemoryAttemptStates()
    await attempts.claim("done", 1, JobStatus.COMPLETED)
    for key in ("jobs/done/1/out/video.mp4", "jobs/running/1/audio/s1.wav", "jobs/done/2/audio/s1.wav"):
        await blobs.put_bytes(settings.work_bucket, key, b"x", "application/octet-stream")

    later = datetime.now(UTC) + timedelta(seconds=settings.scratch_sweep_ended_age_sec + 60)
    swept = await sweep_scratch(blobs=blobs, attempts=attempts, settings=settings, now=later)

    assert [(a.job_id, a.attempt) for a in swept] == [("done", 1)]
    remaining = sorted(listing.key for listing in await blobs.list_keys(settings.work_bucket, "jobs/"))
    assert remaining == ["jobs/done/2/audio/s1.wav", "jobs/running/1/audio/s1.wav"]
