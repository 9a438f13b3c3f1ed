"""What the uploader has already done on YouTube for a job, so that a redelivery or a retry never does it twice.

Two records, both written after each step that changes YouTube:

- per job attempt, in the work bucket (``jobs/{job_id}/{attempt}/youtube-upload.json``): the resumable session
  the attempt's video is going up through, tied to that file's sha256. A redelivery asks the session for its
  offset and goes on from there. It is scratch: it goes with the attempt.
- per job, in the media bucket beside ``video.mp4`` (``…/{job_id}/youtube.json``): the finished video's id and
  what followed it (thumbnail, captions). A later attempt of the same job (a retry after a quota error, say)
  reuses the video instead of uploading a second copy.
"""

import posixpath

from pydantic import BaseModel, ConfigDict

from reelflow.contracts import Asset
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.step_results import result_key

UPLOAD_STEP_NAME = "youtube-upload"
PUBLISHED_STEP_NAME = "published"
JOB_RECORD_FILE = "youtube.json"


class YouTubeUploadRecord(BaseModel):
    """Progress of one job's publication on YouTube. ``session_uri`` is a capability: never logged."""

    model_config = ConfigDict(extra="ignore")

    video_sha256: str = ""
    session_uri: str | None = None
    video_id: str | None = None
    thumbnail_set: bool = False
    captions_id: str | None = None


def attempt_record_key(job_id: str, attempt: int) -> str:
    return result_key(job_id, attempt, UPLOAD_STEP_NAME)


def published_result_key(job_id: str, attempt: int) -> str:
    return result_key(job_id, attempt, PUBLISHED_STEP_NAME)


def job_record_key(video: Asset) -> str:
    """Beside the job's video in the media bucket (its folder is per job: DESIGN §5)."""
    return posixpath.join(posixpath.dirname(video.key), JOB_RECORD_FILE)


class UploadRecords:
    """Reads and writes one job attempt's records."""

    def __init__(self, blobs: BlobStore, *, work_bucket: str, job_id: str, attempt: int, video: Asset) -> None:
        self._blobs = blobs
        self._attempt_at = (work_bucket, attempt_record_key(job_id, attempt))
        self._job_at = (video.bucket, job_record_key(video))

    async def _read(self, bucket: str, key: str) -> YouTubeUploadRecord | None:
        if await self._blobs.stat(bucket, key) is None:
            return None
        return YouTubeUploadRecord.model_validate_json(await self._blobs.get_bytes(bucket, key))

    async def load(self, video_sha256: str) -> YouTubeUploadRecord:
        """This attempt's record; else the job's finished video from an earlier attempt; else a fresh one.

        A session is resumed only for the very file it was started with.
        """
        record = await self._read(*self._attempt_at)
        if record is not None and (record.video_id or record.video_sha256 == video_sha256):
            return record
        earlier = await self._read(*self._job_at)
        if earlier is not None and earlier.video_id:
            return earlier.model_copy(update={"session_uri": None})
        return YouTubeUploadRecord(video_sha256=video_sha256)

    async def save(self, record: YouTubeUploadRecord) -> None:
        data = record.model_dump_json().encode()
        await self._blobs.put_bytes(*self._attempt_at, data, "application/json")
        if record.video_id:
            finished = record.model_copy(update={"session_uri": None}).model_dump_json().encode()
            await self._blobs.put_bytes(*self._job_at, finished, "application/json")
