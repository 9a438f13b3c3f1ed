"""The records that keep a job from being uploaded twice: a session per attempt and file, a finished video per job."""

from pathlib import Path

from reelflow.contracts import Asset, AssetKind
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.uploader.upload_records import UploadRecords, YouTubeUploadRecord, job_record_key

WORK, MEDIA = "reelflow-work", "reelflow-media"
VIDEO = Asset(
    kind=AssetKind.VIDEO,
    bucket=MEDIA,
    key="videos/v1/s1/job-1/video.mp4",
    size_bytes=10,
    content_type="video/mp4",
    sha256="ab" * 32,
)
SESSION = "https://youtube.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=u1"


def records_of(blobs: DirectoryBlobStore, attempt: int) -> UploadRecords:
    return UploadRecords(blobs, work_bucket=WORK, job_id="job-1", attempt=attempt, video=VIDEO)


def test_the_job_record_sits_beside_the_video() -> None:
    assert job_record_key(VIDEO) == "videos/v1/s1/job-1/youtube.json"


async def test_nothing_recorded_gives_a_fresh_record_for_the_file(tmp_path: Path) -> None:
    record = await records_of(DirectoryBlobStore(tmp_path), 1).load(VIDEO.sha256)
    assert record == YouTubeUploadRecord(video_sha256=VIDEO.sha256)


async def test_a_session_is_resumed_only_for_the_file_it_was_started_with(tmp_path: Path) -> None:
    records = records_of(DirectoryBlobStore(tmp_path), 1)
    await records.save(YouTubeUploadRecord(video_sha256=VIDEO.sha256, session_uri=SESSION))

    assert (await records.load(VIDEO.sha256)).session_uri == SESSION
    other_file = await records.load("cd" * 32)
    assert other_file == YouTubeUploadRecord(video_sha256="cd" * 32)


async def test_a_finished_video_is_kept_per_job_without_its_session(tmp_path: Path) -> None:
    blobs = DirectoryBlobStore(tmp_path)
    finished = YouTubeUploadRecord(video_sha256=VIDEO.sha256, session_uri=SESSION, video_id="vid1", thumbnail_set=True)
    await records_of(blobs, 1).save(finished)

    later_attempt = await records_of(blobs, 2).load("ef" * 32)  # re-rendered: another file, the same job

    assert later_attempt.video_id == "vid1"
    assert later_attempt.thumbnail_set is True
    assert later_attempt.session_uri is None
    assert b"upload_id" not in await blobs.get_bytes(MEDIA, job_record_key(VIDEO))
