"""The storage service on FastStream's in-memory broker: composed scratch outputs become final assets (DESIGN §5).

The handlers' router is a module-level object and FastStream binds a router to the last broker that includes
it, so this module builds one runtime and every test shares it (each test uses its own ids).
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faststream.nats import TestNatsBroker
from tests.bus_recording import BusRecorder, RecordingBus, record_bus

from reelflow.contracts import (
    STREAM_NAME,
    AssetKind,
    Chapter,
    ComposedFile,
    ComposedOutputs,
    DeadLetter,
    ErrorCode,
    ErrorInfo,
    JobStatus,
    LessonSpec,
    ProgressUpdate,
    RenderCancel,
    RenderCompleted,
    RenderComposed,
    RenderFailed,
    RenderStored,
    Scene,
    Step,
    SubtitleMode,
    VideoScript,
)
from reelflow.runtime.attempts import InMemoryAttemptStates
from reelflow.runtime.blobs import DirectoryBlobStore, work_prefix
from reelflow.runtime.failures import StorageUploadError
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.service import ServiceRuntime, build_runtime
from reelflow.storage.asset_destinations import MediaStoreDestination
from reelflow.storage.handlers import STORAGE_DELIVERY, router
from reelflow.storage.publishing import store_outputs
from reelflow.storage.settings import StorageSettings

DLQ_SUBJECT = "rf.dlq.storage"
ATTEMPT = 2
SCRATCH_FILES: dict[AssetKind, tuple[str, bytes]] = {
    AssetKind.VIDEO: ("video.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8),
    AssetKind.THUMBNAIL: ("thumb.jpg", b"\xff\xd8\xff\xe0 thumbnail"),
    AssetKind.SUBTITLES_SRT: ("subtitles.srt", "1\n00:00:00,000 --> 00:00:02,000\n피싱이란?\n".encode()),
    AssetKind.SUBTITLES_VTT: ("subtitles.vtt", "WEBVTT\n\n00:00.000 --> 00:02.000\n피싱이란?\n".encode()),
    AssetKind.CHAPTERS: ("chapters.txt", b"00:00 Intro\n"),
}
EXPECTED_NAMES = {
    AssetKind.VIDEO: ("video.mp4", "video/mp4"),
    AssetKind.THUMBNAIL: ("thumb.jpg", "image/jpeg"),
    AssetKind.SUBTITLES_SRT: ("subtitles.srt", "application/x-subrip"),
    AssetKind.SUBTITLES_VTT: ("subtitles.vtt", "text/vtt"),
    AssetKind.CHAPTERS: ("chapters.txt", "text/plain; charset=utf-8"),
}


@dataclass(frozen=True)
class StorageService:
    runtime: ServiceRuntime[StorageSettings]
    recorder: BusRecorder
    blobs: DirectoryBlobStore


@pytest.fixture(scope="module")
def storage_service(tmp_path_factory: pytest.TempPathFactory) -> StorageService:
    blobs = DirectoryBlobStore(tmp_path_factory.mktemp("storage-blobs"))
    runtime = build_runtime("storage", StorageSettings(), router, blobs=blobs, attempts=InMemoryAttemptStates())
    recorder = record_bus(runtime.broker)
    return StorageService(runtime, recorder, blobs)


@pytest.fixture
def bus(storage_service: StorageService) -> Iterator[BusRecorder]:
    yield from storage_service.recorder.cleared()


def scratch_key(job_id: str, kind: AssetKind) -> str:
    return f"{work_prefix(job_id, ATTEMPT)}out/{SCRATCH_FILES[kind][0]}"


async def fill_scratch(service: StorageService, job_id: str) -> None:
    for kind, (_, data) in SCRATCH_FILES.items():
        await service.blobs.put_bytes(service.runtime.settings.work_bucket, scratch_key(job_id, kind), data, "x/y")


def described_files(job_id: str) -> dict[str, ComposedFile]:
    """What compose reports about the scratch outputs it wrote: their sizes and SHA-256."""
    return {
        scratch_key(job_id, kind): ComposedFile(size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        for kind, (_, data) in SCRATCH_FILES.items()
    }


def render_composed(
    unique_id: str,
    *,
    script_id: str | None = "default",
    subtitles: SubtitleMode = SubtitleMode.BOTH,
    files: dict[str, ComposedFile] | None = None,
) -> RenderComposed:
    job_id = f"job-{unique_id}"
    scene = Scene(scene_id="s1", narration="피싱은 사기입니다.")
    spec = LessonSpec(
        script=VideoScript(chapters=[Chapter(chapter_id="c1", title="피싱이란?", scenes=[scene])]), subtitles=subtitles
    )
    return RenderComposed(
        job_id=job_id,
        video_id=f"video-{unique_id}",
        script_id=f"script-{unique_id}" if script_id == "default" else script_id,
        attempt=ATTEMPT,
        spec=spec,
        outputs=ComposedOutputs(
            video=scratch_key(job_id, AssetKind.VIDEO),
            thumbnail=scratch_key(job_id, AssetKind.THUMBNAIL),
            subtitles_srt=scratch_key(job_id, AssetKind.SUBTITLES_SRT),
            subtitles_vtt=scratch_key(job_id, AssetKind.SUBTITLES_VTT),
            chapters=scratch_key(job_id, AssetKind.CHAPTERS),
            files=files or {},
        ),
        duration_sec=12.5,
    )


async def publish(service: StorageService, body: dict[str, Any], subject: str, *, reply_to: str = "") -> None:
    async with TestNatsBroker(service.runtime.broker) as broker:
        await broker.publish(body, subject, reply_to=reply_to)


def jetstream_reply(delivered: int) -> str:
    """The ack subject JetStream puts on a message; the middleware reads the delivery count from it."""
    return f"$JS.ACK.{STREAM_NAME}.storage.{delivered}.10.10.1700000000000000000.0"


async def test_composed_outputs_become_assets_at_the_design_keys(
    storage_service: StorageService, bus: BusRecorder, unique_id: str
) -> None:
    composed = render_composed(unique_id)
    await fill_scratch(storage_service, composed.job_id)

    await publish(storage_service, composed.model_dump(mode="json"), RenderComposed.subject)

    [message] = bus.on(RenderStored.subject)
    stored = RenderStored.model_validate(message.json())
    assert (stored.job_id, stored.video_id, stored.script_id, stored.attempt) == (
        composed.job_id,
        composed.video_id,
        composed.script_id,
        ATTEMPT,
    )
    assert stored.spec == composed.spec
    assert stored.duration_sec == 12.5
    assert message.headers["Nats-Msg-Id"] == f"{composed.job_id}:{ATTEMPT}:reelflow.render.stored.v1"

    media_bucket = storage_service.runtime.settings.media_bucket
    prefix = f"videos/{composed.video_id}/{composed.script_id}/{composed.job_id}/"
    assert {asset.kind for asset in stored.assets} == set(AssetKind)
    for asset in stored.assets:
        name, content_type = EXPECTED_NAMES[asset.kind]
        data = SCRATCH_FILES[asset.kind][1]
        assert asset.bucket == media_bucket
        assert asset.key == prefix + name
        assert asset.content_type == content_type
        assert asset.size_bytes == len(data)
        assert asset.sha256 == hashlib.sha256(data).hexdigest()
        assert await storage_service.blobs.get_bytes(media_bucket, asset.key) == data
    assert bus.on(RenderFailed.subject) == []
    assert bus.on(DLQ_SUBJECT) == []


class ReadsRefused(DirectoryBlobStore):
    """A store on which reading an object back fails: only a copy inside the store can publish it."""

    async def get_file(self, bucket: str, key: str, path: Path) -> None:
        raise AssertionError(f"storage downloaded {bucket}/{key}")

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        if key.startswith("jobs/"):  # the step results manifest is read; outputs must not be
            return await super().get_bytes(bucket, key)
        raise AssertionError(f"storage read {bucket}/{key}")


async def test_described_outputs_are_copied_inside_the_store_never_read_back(tmp_path: Path, unique_id: str) -> None:
    blobs = ReadsRefused(tmp_path)
    settings = StorageSettings()
    job_id = f"job-{unique_id}"
    for kind, (_, data) in SCRATCH_FILES.items():
        await blobs.put_bytes(settings.work_bucket, scratch_key(job_id, kind), data, EXPECTED_NAMES[kind][1])
    # A SHA-256 compose reported is taken as it is: nothing here reads the file to recompute it.
    files = described_files(job_id)
    reported = "ab" * 32
    files[scratch_key(job_id, AssetKind.VIDEO)] = files[scratch_key(job_id, AssetKind.VIDEO)].model_copy(
        update={"sha256": reported}
    )
    composed = render_composed(unique_id, files=files)

    stored = await store_outputs(
        composed, blobs=blobs, settings=settings, progress=_silent_progress(job_id), destination=MediaStoreDestination()
    )

    by_kind = {asset.kind: asset for asset in stored.assets}
    assert set(by_kind) == set(AssetKind)
    assert by_kind[AssetKind.VIDEO].sha256 == reported
    for kind, (_, data) in SCRATCH_FILES.items():
        asset = by_kind[kind]
        assert (asset.size_bytes, asset.content_type) == (len(data), EXPECTED_NAMES[kind][1])
        assert (tmp_path / settings.media_bucket / asset.key).read_bytes() == data


async def test_a_copy_that_arrives_with_the_wrong_size_is_a_retryable_failure(tmp_path: Path, unique_id: str) -> None:
    blobs = DirectoryBlobStore(tmp_path)
    settings = StorageSettings()
    job_id = f"job-{unique_id}"
    await fill_scratch_of(blobs, settings, job_id)
    files = described_files(job_id)
    video = scratch_key(job_id, AssetKind.VIDEO)
    files[video] = files[video].model_copy(update={"size_bytes": files[video].size_bytes + 1})

    with pytest.raises(StorageUploadError, match=r"not the \d+ bytes compose wrote") as caught:
        await store_outputs(
            render_composed(unique_id, files=files),
            blobs=blobs,
            settings=settings,
            progress=_silent_progress(job_id),
            destination=MediaStoreDestination(),
        )
    assert caught.value.retryable


async def fill_scratch_of(blobs: DirectoryBlobStore, settings: StorageSettings, job_id: str) -> None:
    for kind, (_, data) in SCRATCH_FILES.items():
        await blobs.put_bytes(settings.work_bucket, scratch_key(job_id, kind), data, "x/y")


def _silent_progress(job_id: str) -> ProgressReporter:
    return ProgressReporter(RecordingBus(), job_id=job_id, attempt=ATTEMPT, min_interval_sec=0)


async def test_storing_reports_upload_progress_up_to_the_end_of_its_band(
    storage_service: StorageService, bus: BusRecorder, unique_id: str
) -> None:
    composed = render_composed(unique_id)
    await fill_scratch(storage_service, composed.job_id)

    await publish(storage_service, composed.model_dump(mode="json"), RenderComposed.subject)

    updates = [ProgressUpdate.model_validate(m.json()) for m in bus.on(f"rf.progress.{composed.job_id}")]
    values = [update.progress for update in updates]
    assert values[0] == 85
    assert values[-1] == 95
    assert values == sorted(values)
    assert {update.step for update in updates} == {Step.UPLOAD_ASSETS}
    assert {update.attempt for update in updates} == {ATTEMPT}


async def test_storing_twice_gives_the_same_assets(
    storage_service: StorageService, bus: BusRecorder, unique_id: str
) -> None:
    composed = render_composed(unique_id)
    await fill_scratch(storage_service, composed.job_id)
    body = composed.model_dump(mode="json")

    await publish(storage_service, body, RenderComposed.subject)
    # A redelivery after the first attempt finished must not re-read scratch that may have changed since.
    work_bucket = storage_service.runtime.settings.work_bucket
    await storage_service.blobs.put_bytes(work_bucket, scratch_key(composed.job_id, AssetKind.VIDEO), b"new", "x/y")
    await publish(storage_service, body, RenderComposed.subject)

    first, second = bus.on(RenderStored.subject)
    assert RenderStored.model_validate(first.json()) == RenderStored.model_validate(second.json())
    assert first.headers["Nats-Msg-Id"] == second.headers["Nats-Msg-Id"]
    media_video = next(a for a in RenderStored.model_validate(second.json()).assets if a.kind == AssetKind.VIDEO)
    assert (
        await storage_service.blobs.get_bytes(media_video.bucket, media_video.key) == SCRATCH_FILES[AssetKind.VIDEO][1]
    )


async def test_a_job_without_a_script_is_stored_under_adhoc(
    storage_service: StorageService, bus: BusRecorder, unique_id: str
) -> None:
    composed = render_composed(unique_id, script_id=None)
    await fill_scratch(storage_service, composed.job_id)

    await publish(storage_service, composed.model_dump(mode="json"), RenderComposed.subject)

    [message] = bus.on(RenderStored.subject)
    keys = {asset.key for asset in RenderStored.model_validate(message.json()).assets}
    assert f"videos/{composed.video_id}/adhoc/{composed.job_id}/video.mp4" in keys


async def test_burned_in_subtitles_are_not_published_as_sidecars(
    storage_service: StorageService, bus: BusRecorder, unique_id: str
) -> None:
    composed = render_composed(unique_id, subtitles=SubtitleMode.BURN)
    await fill_scratch(storage_service, composed.job_id)

    await publish(storage_service, composed.model_dump(mode="json"), RenderComposed.subject)

    [message] = bus.on(RenderStored.subject)
    kinds = {asset.kind for asset in RenderStored.model_validate(message.json()).assets}
    assert kinds == {AssetKind.VIDEO, AssetKind.THUMBNAIL, AssetKind.CHAPTERS}


async def test_missing_scratch_output_is_retried_then_fails_the_job(
    storage_service: StorageService, bus: BusRecorder, unique_id: str
) -> None:
    composed = render_composed(unique_id)  # scratch never filled
    body = composed.model_dump(mode="json")

    await publish(storage_service, body, RenderComposed.subject, reply_to=jetstream_reply(delivered=1))
    assert bus.on(RenderStored.subject) == []
    assert bus.on(RenderFailed.subject) == []
    assert bus.on(DLQ_SUBJECT) == []

    last = STORAGE_DELIVERY.max_deliver
    await publish(storage_service, body, RenderComposed.subject, reply_to=jetstream_reply(delivered=last))
    [failed_message] = bus.on(RenderFailed.subject)
    failed = RenderFailed.model_validate(failed_message.json())
    assert failed.job_id == composed.job_id
    assert failed.attempt == ATTEMPT
    assert failed.error.step == Step.UPLOAD_ASSETS
    assert f"gave up after {last} deliveries" in failed.error.message
    [letter_message] = bus.on(DLQ_SUBJECT)
    letter = DeadLetter.model_validate(letter_message.json())
    assert letter.delivered == last
    assert letter.error == failed.error
    assert bus.on(RenderStored.subject) == []


async def test_completion_cleans_only_that_attempts_scratch(
    storage_service: StorageService, bus: BusRecorder, unique_id: str
) -> None:
    composed = render_composed(unique_id)
    await fill_scratch(storage_service, composed.job_id)
    work_bucket = storage_service.runtime.settings.work_bucket
    other_attempt = f"{work_prefix(composed.job_id, ATTEMPT + 1)}out/video.mp4"
    await storage_service.blobs.put_bytes(work_bucket, other_attempt, b"keep me", "video/mp4")
    await publish(storage_service, composed.model_dump(mode="json"), RenderComposed.subject)
    [stored_message] = bus.on(RenderStored.subject)
    stored = RenderStored.model_validate(stored_message.json())

    completed = RenderCompleted(
        job_id=composed.job_id,
        video_id=composed.video_id,
        script_id=composed.script_id,
        attempt=ATTEMPT,
        assets=stored.assets,
        duration_sec=stored.duration_sec,
    )
    await publish(storage_service, completed.model_dump(mode="json"), RenderCompleted.subject)

    for kind in SCRATCH_FILES:
        assert await storage_service.blobs.stat(work_bucket, scratch_key(composed.job_id, kind)) is None
    assert await storage_service.blobs.get_bytes(work_bucket, other_attempt) == b"keep me"
    for asset in stored.assets:
        assert await storage_service.blobs.stat(asset.bucket, asset.key) is not None
    assert bus.on(DLQ_SUBJECT) == []


@pytest.mark.parametrize("ending", ["failed", "canceled"])
async def test_a_failed_or_canceled_attempt_leaves_no_scratch(
    storage_service: StorageService, bus: BusRecorder, unique_id: str, ending: str
) -> None:
    job_id = f"job-{unique_id}"
    await fill_scratch(storage_service, job_id)
    work_bucket = storage_service.runtime.settings.work_bucket
    other_attempt = f"{work_prefix(job_id, ATTEMPT + 1)}out/video.mp4"
    await storage_service.blobs.put_bytes(work_bucket, other_attempt, b"keep me", "video/mp4")
    error = ErrorInfo(code=ErrorCode.RENDER_FAILED, message="ffmpeg exited with code 1")
    event: RenderFailed | RenderCancel = (
        RenderFailed(job_id=job_id, attempt=ATTEMPT, error=error)
        if ending == "failed"
        else RenderCancel(job_id=job_id, attempt=ATTEMPT)
    )

    await publish(storage_service, event.model_dump(mode="json"), event.subject)

    for kind in SCRATCH_FILES:
        assert await storage_service.blobs.stat(work_bucket, scratch_key(job_id, kind)) is None
    assert await storage_service.blobs.get_bytes(work_bucket, other_attempt) == b"keep me"
    assert bus.on(DLQ_SUBJECT) == []


async def test_a_late_message_of_an_ended_attempt_is_dropped(
    storage_service: StorageService, bus: BusRecorder, unique_id: str
) -> None:
    composed = render_composed(unique_id)
    await fill_scratch(storage_service, composed.job_id)
    attempts = storage_service.runtime.bus.attempts
    assert attempts is not None
    await attempts.claim(composed.job_id, ATTEMPT, JobStatus.COMPLETED)

    await publish(storage_service, composed.model_dump(mode="json"), RenderComposed.subject)

    assert bus.on(RenderStored.subject) == []
    assert bus.on(RenderFailed.subject) == []
    assert bus.on(DLQ_SUBJECT) == []
