"""The uploader publishing to a local fake YouTube through the real google-api-python-client, on FastStream's
in-memory broker: the chunked resumable upload, the video's settings, thumbnail and captions, retries, resuming
after a stalled connection or a killed uploader, idempotency, and the failures a person has to act on.

The handlers' router binds to the last broker that includes it, so this module builds one runtime (pointed at
one fake YouTube) and every test shares it; each test uses its own ids and looks only at its own uploads.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from faststream.nats import TestNatsBroker
from pydantic import SecretStr
from tests.bus_recording import BusRecorder, record_bus
from tests.fake_youtube import FakeYouTube, UploadSession

from reelflow.contracts import (
    Asset,
    AssetKind,
    Chapter,
    DeadLetter,
    ErrorCode,
    LessonSpec,
    ProgressUpdate,
    PublishTarget,
    RenderFailed,
    RenderPublished,
    RenderStored,
    Scene,
    Step,
    VideoScript,
)
from reelflow.runtime.attempts import InMemoryAttemptStates
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.channel_grants import ChannelGrant, GrantSealer, grant_key
from reelflow.runtime.service import ServiceRuntime, build_runtime
from reelflow.uploader.handlers import router
from reelflow.uploader.settings import RESUMABLE_CHUNK_UNIT, UploaderSettings
from reelflow.uploader.upload_records import YouTubeUploadRecord, attempt_record_key

MEDIA_BUCKET = "reelflow-media"
DLQ_SUBJECT = "rf.dlq.uploader"
CHUNK = RESUMABLE_CHUNK_UNIT
# Four full chunks and a short last one.
VIDEO_SIZE = 4 * CHUNK + 1000
CHAPTERS_TXT = "0:00 Intro\n0:12 What phishing looks like\n0:31 What to do\n"
SUBTITLES_SRT = "1\n00:00:00,000 --> 00:00:02,500\nPhishing is a scam.\n"
CALL_TRIES = 3
# The key the gateway sealed connected channels' grants with; the uploader is given the same one.
CHANNEL_TOKEN_KEY = Fernet.generate_key().decode()
PROCESS_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH", "SYSTEMROOT")


@dataclass(frozen=True)
class UploaderService:
    runtime: ServiceRuntime[UploaderSettings]
    recorder: BusRecorder
    blobs: DirectoryBlobStore
    blob_dir: Path
    youtube: FakeYouTube
    settings_env: dict[str, str]


@pytest.fixture(scope="module")
def uploader_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UploaderService]:
    with FakeYouTube() as youtube:
        settings_env = youtube.settings_env() | {
            "REELFLOW_YOUTUBE_CHUNK_BYTES": str(CHUNK),
            "REELFLOW_YOUTUBE_TIMEOUT_SEC": "3",
            "REELFLOW_YOUTUBE_CALL_TRIES": str(CALL_TRIES),
            "REELFLOW_YOUTUBE_RETRY_FIRST_DELAY_SEC": "0.01",
            "REELFLOW_YOUTUBE_RETRY_MAX_DELAY_SEC": "0.05",
            "REELFLOW_CHANNEL_TOKEN_KEY": CHANNEL_TOKEN_KEY,
        }
        with pytest.MonkeyPatch.context() as patch:
            for name, value in settings_env.items():
                patch.setenv(name, value)
            settings = UploaderSettings()
        blob_dir = tmp_path_factory.mktemp("uploader-blobs")
        blobs = DirectoryBlobStore(blob_dir)
        runtime = build_runtime("uploader", settings, router, blobs=blobs, attempts=InMemoryAttemptStates())
        recorder = record_bus(runtime.broker)
        yield UploaderService(runtime, recorder, blobs, blob_dir, youtube, settings_env)


@pytest.fixture
def bus(uploader_service: UploaderService) -> Iterator[BusRecorder]:
    uploader_service.youtube.reset()
    yield from uploader_service.recorder.cleared()
    uploader_service.youtube.reset()


@pytest.fixture
def youtube(uploader_service: UploaderService) -> FakeYouTube:
    return uploader_service.youtube


@dataclass(frozen=True)
class StoredJob:
    event: RenderStored
    video: bytes
    thumbnail: bytes


async def stored_job(
    service: UploaderService, unique_id: str, target: PublishTarget, *, attempt: int = 1, language: str = "ko"
) -> StoredJob:
    """A job whose final assets sit in the media bucket, as storage leaves them."""
    prefix = f"videos/video-{unique_id}/script-{unique_id}/job-{unique_id}/"
    video = os.urandom(VIDEO_SIZE)
    thumbnail = b"\xff\xd8\xff\xe0 fake jpeg " + unique_id.encode()
    files = {
        AssetKind.VIDEO: ("video.mp4", video, "video/mp4"),
        AssetKind.THUMBNAIL: ("thumb.jpg", thumbnail, "image/jpeg"),
        AssetKind.SUBTITLES_SRT: ("subtitles.srt", SUBTITLES_SRT.encode(), "application/x-subrip"),
        AssetKind.CHAPTERS: ("chapters.txt", CHAPTERS_TXT.encode(), "text/plain; charset=utf-8"),
    }
    assets = []
    for kind, (name, data, content_type) in files.items():
        await service.blobs.put_bytes(MEDIA_BUCKET, prefix + name, data, content_type)
        assets.append(
            Asset(
                kind=kind,
                bucket=MEDIA_BUCKET,
                key=prefix + name,
                size_bytes=len(data),
                content_type=content_type,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    scene = Scene(scene_id="s1", narration="Phishing is a scam.")
    spec = LessonSpec(
        language=language,
        script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Intro", scenes=[scene])]),
        publish=target,
    )
    event = RenderStored(
        job_id=f"job-{unique_id}",
        video_id=f"video-{unique_id}",
        script_id=f"script-{unique_id}",
        attempt=attempt,
        spec=spec,
        assets=assets,
        duration_sec=42.0,
    )
    return StoredJob(event, video, thumbnail)


async def deliver(service: UploaderService, event: RenderStored) -> None:
    async with TestNatsBroker(service.runtime.broker) as broker:
        await broker.publish(event.model_dump(mode="json"), RenderStored.subject)


def kill_uploader_process_at_stall(service: UploaderService, event_file: Path) -> tuple[int, str]:
    """Run an uploader process on ``event_file`` until the fake swallows a chunk, then SIGKILL it mid-chunk."""
    env = {name: os.environ[name] for name in PROCESS_ENV_KEEP if name in os.environ}
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("uploader_process.py")), str(service.blob_dir), event_file],
        env=env | service.settings_env | {"REELFLOW_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert service.youtube.stalled.wait(60), "the uploader process never reached the stalled chunk"
    finally:
        process.kill()  # SIGKILL: no cleanup, no ack, the connection cut mid-chunk
        _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr.decode(errors="replace")


def sessions_titled(youtube: FakeYouTube, title: str) -> list[UploadSession]:
    return [s for s in youtube.sessions if s.metadata.get("snippet", {}).get("title") == title]


def chunk_ranges(size: int) -> list[tuple[int, int]]:
    return [(start, min(start + CHUNK, size) - 1) for start in range(0, size, CHUNK)]


def the_publication(bus: BusRecorder) -> RenderPublished:
    [message] = bus.on(RenderPublished.subject)
    return RenderPublished.model_validate(message.json())


def the_failure(bus: BusRecorder) -> RenderFailed:
    [message] = bus.on(RenderFailed.subject)
    return RenderFailed.model_validate(message.json())


async def test_a_lesson_goes_up_in_chunks_with_its_settings_thumbnail_and_captions(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    title = f"Phishing 101 {unique_id}"
    target = PublishTarget(
        title=title, description="Spot a scam.", tags=["security", "phishing 101"], privacy="unlisted"
    )
    job = await stored_job(uploader_service, unique_id, target)

    await deliver(uploader_service, job.event)

    published = the_publication(bus)
    assert (published.job_id, published.attempt, published.platform) == (job.event.job_id, 1, "youtube")
    assert published.url == f"https://www.youtube.com/watch?v={published.external_id}"
    [message] = bus.on(RenderPublished.subject)
    assert message.headers["Nats-Msg-Id"] == f"{job.event.job_id}:1:reelflow.render.published.v1"

    [session] = sessions_titled(youtube, title)
    assert session.video_id == published.external_id
    assert session.content_type == "video/mp4"
    assert session.ranges == chunk_ranges(VIDEO_SIZE)
    assert bytes(session.data) == job.video
    snippet, status = session.metadata["snippet"], session.metadata["status"]
    assert snippet == {
        "title": title,
        "description": "Spot a scam.\n\n" + CHAPTERS_TXT.strip(),
        "tags": ["security", "phishing 101"],
        "categoryId": "27",
        "defaultLanguage": "ko",
        "defaultAudioLanguage": "ko",
    }
    assert status == {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False}

    assert youtube.thumbnails[published.external_id] == job.thumbnail
    [captions] = [c for c in youtube.captions if c.snippet["videoId"] == published.external_id]
    assert captions.snippet["language"] == "ko"
    assert captions.snippet["isDraft"] is False
    assert captions.body.decode() == SUBTITLES_SRT

    progress = [ProgressUpdate.model_validate(m.json()) for m in bus.on(f"rf.progress.{job.event.job_id}")]
    assert progress, "the upload reports progress"
    assert {update.step for update in progress} == {Step.PUBLISH}
    assert [u.progress for u in progress] == sorted(u.progress for u in progress)
    assert progress[-1].progress == 99
    assert bus.on(RenderFailed.subject) == []


async def test_a_scheduled_release_goes_up_private_with_publish_at_and_the_targets_settings(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    release = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    title = f"Scheduled {unique_id}"
    target = PublishTarget(
        title=title,
        privacy="public",
        publish_at=release,
        category_id="22",
        default_language="en",
        made_for_kids=True,
    )
    job = await stored_job(uploader_service, unique_id, target)

    await deliver(uploader_service, job.event)

    published = the_publication(bus)
    assert published.url == f"https://www.youtube.com/watch?v={published.external_id}"
    [session] = sessions_titled(youtube, title)
    assert session.metadata["status"] == {
        "privacyStatus": "private",
        "publishAt": release.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "selfDeclaredMadeForKids": True,
    }
    assert session.metadata["snippet"]["categoryId"] == "22"
    assert session.metadata["snippet"]["defaultLanguage"] == "en"
    [captions] = [c for c in youtube.captions if c.snippet["videoId"] == published.external_id]
    assert captions.snippet["language"] == "en"


async def test_a_redelivered_publish_republishes_the_recorded_result_without_touching_youtube(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    title = f"Twice {unique_id}"
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=title))
    await deliver(uploader_service, job.event)
    requests_after_first = len(youtube.requests)

    await deliver(uploader_service, job.event)

    first, second = (RenderPublished.model_validate(m.json()) for m in bus.on(RenderPublished.subject))
    assert first == second
    assert len(sessions_titled(youtube, title)) == 1
    assert len(youtube.requests) == requests_after_first


async def test_a_thumbnail_that_keeps_failing_is_redelivered_and_the_video_is_not_uploaded_again(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    title = f"Thumbnail later {unique_id}"
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=title))
    youtube.fail("thumbnail", 503, times=CALL_TRIES)

    await deliver(uploader_service, job.event)

    assert bus.on(RenderPublished.subject) == []
    assert bus.on(RenderFailed.subject) == [], "a retryable failure is handed back to the bus, not failed"
    [session] = sessions_titled(youtube, title)
    assert session.video_id is not None
    assert session.video_id not in youtube.thumbnails

    await deliver(uploader_service, job.event)  # the bus's redelivery

    published = the_publication(bus)
    assert published.external_id == session.video_id
    assert len(sessions_titled(youtube, title)) == 1
    assert youtube.thumbnails[session.video_id] == job.thumbnail
    assert len([c for c in youtube.captions if c.snippet["videoId"] == session.video_id]) == 1


async def test_a_later_attempt_of_the_job_reuses_its_video(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    title = f"Retried job {unique_id}"
    first = await stored_job(uploader_service, unique_id, PublishTarget(title=title), attempt=1)
    await deliver(uploader_service, first.event)
    retried = first.event.model_copy(update={"attempt": 2})

    await deliver(uploader_service, retried)

    first_publication, retried_publication = (
        RenderPublished.model_validate(m.json()) for m in bus.on(RenderPublished.subject)
    )
    assert retried_publication.attempt == 2
    assert retried_publication.external_id == first_publication.external_id
    assert len(sessions_titled(youtube, title)) == 1


async def test_server_errors_and_rate_limits_are_retried_within_the_step(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    title = f"Flaky {unique_id}"
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=title))
    youtube.fail("token", 503)
    youtube.fail("initiate", 500)  # the session start and the first chunk are one call: two failures, one retry left
    youtube.fail("chunk", 429, "rateLimitExceeded", domain="youtube.quota")
    youtube.fail("thumbnail", 502)
    youtube.fail("caption", 503)

    await deliver(uploader_service, job.event)

    published = the_publication(bus)
    [session] = sessions_titled(youtube, title)
    assert session.video_id == published.external_id
    assert bytes(session.data) == job.video
    assert session.ranges == chunk_ranges(VIDEO_SIZE), "each byte range went up once"
    assert youtube.thumbnails[published.external_id] == job.thumbnail
    assert len([c for c in youtube.captions if c.snippet["videoId"] == published.external_id]) == 1


async def test_youtube_down_past_the_retries_hands_the_message_back_and_the_redelivery_continues_the_session(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    title = f"Outage {unique_id}"
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=title))
    youtube.fail("chunk", 503, times=CALL_TRIES)

    await deliver(uploader_service, job.event)

    assert bus.on(RenderFailed.subject) == []
    assert bus.on(DLQ_SUBJECT) == []
    [session] = sessions_titled(youtube, title)
    assert session.ranges == []
    record = await uploader_service.blobs.get_bytes("reelflow-work", attempt_record_key(job.event.job_id, 1))
    assert json.loads(record)["session_uri"].endswith(f"upload_id={session.upload_id}")

    await deliver(uploader_service, job.event)

    the_publication(bus)
    assert sessions_titled(youtube, title) == [session], "the redelivery went on with the recorded session"
    assert session.ranges == chunk_ranges(VIDEO_SIZE)


@pytest.mark.reliability
async def test_a_stalled_connection_mid_upload_resumes_from_the_offset_youtube_reports(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    title = f"Stalled {unique_id}"
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=title))
    youtube.stall_chunk(3)  # chunks 1 and 2 go in; the 3rd is swallowed, the client times out and asks

    await deliver(uploader_service, job.event)

    assert youtube.stalled.is_set()
    published = the_publication(bus)
    [session] = sessions_titled(youtube, title)
    assert session.video_id == published.external_id
    assert session.ranges == chunk_ranges(VIDEO_SIZE), "the upload went on at the server's offset, nothing twice"
    assert bytes(session.data) == job.video


@pytest.mark.reliability
async def test_an_uploader_killed_mid_upload_is_resumed_by_the_next_delivery(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str, tmp_path: Path
) -> None:
    title = f"Killed {unique_id}"
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=title))
    event_file = tmp_path / "stored.json"
    event_file.write_text(job.event.model_dump_json())
    youtube.stall_chunk(3)

    returncode, stderr = kill_uploader_process_at_stall(uploader_service, event_file)

    assert returncode == -signal.SIGKILL, stderr[-2000:]
    [session] = sessions_titled(youtube, title)
    assert session.ranges == chunk_ranges(VIDEO_SIZE)[:2]
    assert bus.on(RenderPublished.subject) == []

    await deliver(uploader_service, job.event)  # JetStream redelivers the unacked message

    published = the_publication(bus)
    assert sessions_titled(youtube, title) == [session]
    assert session.video_id == published.external_id
    assert session.ranges == chunk_ranges(VIDEO_SIZE), "each byte range went up exactly once"
    assert bytes(session.data) == job.video
    assert youtube.thumbnails[published.external_id] == job.thumbnail


async def test_a_used_up_quota_fails_with_its_own_message_and_when_to_retry(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=f"Quota {unique_id}"))
    youtube.quota_exceeded("initiate")

    await deliver(uploader_service, job.event)

    failed = the_failure(bus)
    assert failed.error.code == ErrorCode.PUBLISH_FAILED
    assert failed.error.step == Step.PUBLISH
    assert "quota" in failed.error.message
    assert "midnight Pacific time" in failed.error.message
    assert failed.error.details["reason"] == "quotaExceeded"
    retry_after = datetime.fromisoformat(failed.error.details["retry_after"])
    assert timedelta(0) < retry_after - datetime.now(UTC) <= timedelta(hours=25)
    [letter] = bus.on(DLQ_SUBJECT)
    assert DeadLetter.model_validate(letter.json()).delivered == 1, "no redelivery can help before the reset"


async def test_the_channels_upload_limit_fails_with_its_own_message(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=f"Limit {unique_id}"))
    youtube.upload_limit_exceeded()

    await deliver(uploader_service, job.event)

    failed = the_failure(bus)
    assert "limit of uploads per 24 hours" in failed.error.message
    assert failed.error.details["reason"] == "uploadLimitExceeded"


async def test_a_refusal_fails_at_once_with_what_to_fix(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=f"Bad {unique_id}", category_id="999"))
    youtube.fail("initiate", 400, "invalidCategoryId", domain="youtube.video", message="The category is invalid.")

    await deliver(uploader_service, job.event)

    failed = the_failure(bus)
    assert "400 invalidCategoryId" in failed.error.message
    assert "fix spec.publish.category_id" in failed.error.message
    assert len(bus.on(DLQ_SUBJECT)) == 1


async def test_a_revoked_refresh_token_asks_for_the_channel_to_be_connected_again(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=f"Revoked {unique_id}"))
    youtube.revoke_refresh_token()

    await deliver(uploader_service, job.event)

    failed = the_failure(bus)
    assert "invalid_grant" in failed.error.message
    assert "connect the channel again" in failed.error.message
    assert youtube.refresh_token not in failed.error.message
    assert youtube.client_secret not in failed.error.message


async def test_settings_youtube_would_refuse_fail_before_anything_is_uploaded(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    title = f"<b>Bold</b> {unique_id}"
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=title, tags=["x" * 501]))

    await deliver(uploader_service, job.event)

    failed = the_failure(bus)
    assert "contains < or >" in failed.error.message
    assert "YouTube allows 500" in failed.error.message
    assert sessions_titled(youtube, title) == []


async def test_a_recorded_session_youtube_no_longer_knows_is_replaced_by_a_new_one(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    title = f"Expired session {unique_id}"
    job = await stored_job(uploader_service, unique_id, PublishTarget(title=title))
    video = next(asset for asset in job.event.assets if asset.kind == AssetKind.VIDEO)
    expired = YouTubeUploadRecord(
        video_sha256=video.sha256,
        session_uri=f"{youtube.api_url}upload/youtube/v3/videos?uploadType=resumable&upload_id=expired-{unique_id}",
    )
    key = attempt_record_key(job.event.job_id, 1)
    await uploader_service.blobs.put_bytes("reelflow-work", key, expired.model_dump_json().encode(), "application/json")

    await deliver(uploader_service, job.event)

    published = the_publication(bus)
    [session] = sessions_titled(youtube, title)
    assert session.video_id == published.external_id
    assert session.ranges == chunk_ranges(VIDEO_SIZE)
    status_queries = [
        r for r in youtube.requests if r.method == "PUT" and r.query.get("upload_id") == [f"expired-{unique_id}"]
    ]
    assert len(status_queries) == 1
    assert status_queries[0].headers["content-range"] == f"bytes */{VIDEO_SIZE}"


# ---- channels a workspace connected -----------------------------------------------------------------------------
async def connect_channel(
    service: UploaderService, workspace_id: str, channel_id: str, refresh_token: str, *, key: str = CHANNEL_TOKEN_KEY
) -> None:
    """What the gateway leaves in the work bucket when a workspace connects a channel."""
    youtube = service.youtube
    grant = ChannelGrant(
        workspace_id=workspace_id,
        channel_id=channel_id,
        client_id=youtube.client_id,
        client_secret=SecretStr(youtube.client_secret),
        refresh_token=SecretStr(refresh_token),
        token_uri=youtube.token_uri,
    )
    sealed = GrantSealer(SecretStr(key)).seal(grant)
    work_bucket = service.runtime.settings.work_bucket
    await service.blobs.put_bytes(work_bucket, grant_key(workspace_id, channel_id), sealed, "application/octet-stream")


async def test_a_job_naming_a_connected_channel_uploads_with_that_channels_grant(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    channel_id, workspace_id = "UCconnected" + unique_id[:8], f"ws-{unique_id}"
    refresh_token = youtube.refresh_token_for(channel_id, "Connected")
    await connect_channel(uploader_service, workspace_id, channel_id, refresh_token)
    title = f"Connected {unique_id}"
    target = PublishTarget(title=title, channel_id=channel_id, workspace_id=workspace_id)
    job = await stored_job(uploader_service, unique_id, target)
    refreshed_before = len(youtube.token_requests)

    await deliver(uploader_service, job.event)

    published = the_publication(bus)
    [session] = sessions_titled(youtube, title)
    assert session.video_id == published.external_id
    used = {request.get("refresh_token") for request in youtube.token_requests[refreshed_before:]}
    assert used == {refresh_token}, "the job's token refreshes used the connected channel's grant only"


async def test_a_disconnected_channel_fails_at_once_asking_to_connect_it_again(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    target = PublishTarget(title=f"Gone {unique_id}", channel_id="UCneverconnected", workspace_id=f"ws-{unique_id}")
    job = await stored_job(uploader_service, unique_id, target)
    sessions_before = len(youtube.sessions)

    await deliver(uploader_service, job.event)

    failed = the_failure(bus)
    assert "channel UCneverconnected is not connected (anymore)" in failed.error.message
    assert "connect it again at /api/channels, then retry the job" in failed.error.message
    assert len(bus.on(DLQ_SUBJECT)) == 1, "failed for good on the first delivery, not redelivered"
    assert len(youtube.sessions) == sessions_before


async def test_another_workspaces_grant_for_the_same_channel_is_not_used(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    channel_id = "UCshared" + unique_id[:8]
    await connect_channel(
        uploader_service, f"other-{unique_id}", channel_id, youtube.refresh_token_for(channel_id, "Shared")
    )
    target = PublishTarget(title=f"Not mine {unique_id}", channel_id=channel_id, workspace_id=f"ws-{unique_id}")
    job = await stored_job(uploader_service, unique_id, target)

    await deliver(uploader_service, job.event)

    assert f"channel {channel_id} is not connected (anymore)" in the_failure(bus).error.message


async def test_a_grant_sealed_with_another_key_fails_at_once_naming_the_setting(
    uploader_service: UploaderService, bus: BusRecorder, youtube: FakeYouTube, unique_id: str
) -> None:
    channel_id, workspace_id = "UCotherkey" + unique_id[:8], f"ws-{unique_id}"
    refresh_token = youtube.refresh_token_for(channel_id)
    await connect_channel(uploader_service, workspace_id, channel_id, refresh_token, key=Fernet.generate_key().decode())
    job = await stored_job(
        uploader_service,
        unique_id,
        PublishTarget(title=f"Other key {unique_id}", channel_id=channel_id, workspace_id=workspace_id),
    )

    await deliver(uploader_service, job.event)

    failed = the_failure(bus)
    assert "REELFLOW_CHANNEL_TOKEN_KEY" in failed.error.message
    assert len(bus.on(DLQ_SUBJECT)) == 1
    assert refresh_token not in failed.error.message
