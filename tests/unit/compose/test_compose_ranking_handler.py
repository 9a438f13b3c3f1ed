"""The compose service on FastStream's in-memory broker with a ranking job: composed, or failed as MEDIA_INVALID.

The handlers' router is a module-level object and FastStream binds a router to the last broker that includes
it, so this module builds one runtime and every test shares it (each test uses its own ids).
"""

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from faststream.nats import TestNatsBroker
from tests.bus_recording import BusRecorder, record_bus
from tests.unit.compose.clip_factory import ClipRecipe, make_clip

from reelflow.compose.handlers import router
from reelflow.compose.settings import ComposeSettings
from reelflow.contracts import (
    ComposedFile,
    DeadLetter,
    ErrorCode,
    RankingClip,
    RankingSpec,
    RenderComposed,
    RenderFailed,
    RenderNarrated,
    Step,
)
from reelflow.runtime.attempts import InMemoryAttemptStates
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.service import ServiceRuntime, build_runtime

DLQ_SUBJECT = "rf.dlq.compose"
# A small frame keeps the encode quick; the full-size checks live in test_compose_ranking_job.
SIZE = "180x320"


@dataclass(frozen=True)
class ComposeService:
    runtime: ServiceRuntime[ComposeSettings]
    recorder: BusRecorder
    blobs: DirectoryBlobStore


@pytest.fixture(scope="module")
async def compose_service(tmp_path_factory: pytest.TempPathFactory) -> ComposeService:
    assert shutil.which("ffmpeg") is not None, "ranking tests need ffmpeg (apt-get install ffmpeg)"
    blobs = DirectoryBlobStore(tmp_path_factory.mktemp("compose-blobs"))
    settings = ComposeSettings(compose_parallelism=2, compose_step_timeout_sec=120)
    await blobs.ensure_buckets(settings.work_bucket, settings.media_bucket)
    clips = tmp_path_factory.mktemp("compose-clips")
    for name, colour in [("a.mp4", "red"), ("b.mp4", "blue")]:
        clip = make_clip(ClipRecipe(colour=colour, size="320x180", fps=25, seconds=1.5), clips / name)
        await blobs.put_file(settings.media_bucket, f"uploads/{name}", clip, "video/mp4")
    await blobs.put_bytes(settings.media_bucket, "uploads/junk.mp4", b"not a video at all" * 100, "video/mp4")
    runtime = build_runtime("compose", settings, router, blobs=blobs, attempts=InMemoryAttemptStates())
    return ComposeService(runtime, record_bus(runtime.broker), blobs)


@pytest.fixture
def bus(compose_service: ComposeService) -> Iterator[BusRecorder]:
    yield from compose_service.recorder.cleared()


def _narrated(unique_id: str, clips: list[RankingClip]) -> RenderNarrated:
    return RenderNarrated(
        job_id=f"job-{unique_id}",
        video_id=f"video-{unique_id}",
        spec=RankingSpec(clips=clips, size=SIZE),
        narration=[],
    )


async def _publish(service: ComposeService, narrated: RenderNarrated) -> None:
    async with TestNatsBroker(service.runtime.broker) as broker:
        await broker.publish(narrated.model_dump(mode="json"), RenderNarrated.subject)


async def test_a_ranking_job_is_composed_into_scratch_outputs(
    compose_service: ComposeService, bus: BusRecorder, unique_id: str
) -> None:
    narrated = _narrated(
        unique_id,
        [RankingClip(media_key="uploads/a.mp4", rank=2), RankingClip(media_key="uploads/b.mp4", rank=1)],
    )
    await _publish(compose_service, narrated)

    [message] = bus.on(RenderComposed.subject)
    composed = RenderComposed.model_validate(message.json())
    assert (composed.job_id, composed.video_id, composed.spec) == (narrated.job_id, narrated.video_id, narrated.spec)
    assert composed.duration_sec == pytest.approx(1.5 + 1.5 - 0.4, abs=0.1)
    work_bucket = compose_service.runtime.settings.work_bucket
    outputs = composed.outputs
    for key in (outputs.video, outputs.thumbnail, outputs.subtitles_srt, outputs.subtitles_vtt, outputs.chapters):
        assert key is not None and key.startswith(f"jobs/{narrated.job_id}/1/out/")
        assert await compose_service.blobs.stat(work_bucket, key) is not None
        # each output's size and SHA-256 go with it, so storage can copy it without reading it back
        data = await compose_service.blobs.get_bytes(work_bucket, key)
        assert outputs.files[key] == ComposedFile(size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    assert bus.on(RenderFailed.subject) == []


async def test_an_unreadable_clip_fails_the_job_as_media_invalid_without_retrying(
    compose_service: ComposeService, bus: BusRecorder, unique_id: str
) -> None:
    narrated = _narrated(
        unique_id,
        [
            RankingClip(media_key="uploads/a.mp4", rank=2, label="Fine"),
            RankingClip(media_key="uploads/junk.mp4", rank=1, label="Junk"),
        ],
    )
    await _publish(compose_service, narrated)

    [message] = bus.on(RenderFailed.subject)
    failed = RenderFailed.model_validate(message.json())
    assert failed.job_id == narrated.job_id
    assert failed.error.code is ErrorCode.MEDIA_INVALID
    assert failed.error.step == Step.COMPOSE_VIDEO
    assert "clip #1 'Junk' (uploads/junk.mp4)" in failed.error.message
    [letter] = bus.on(DLQ_SUBJECT)
    assert DeadLetter.model_validate(letter.json()).error == failed.error
    assert bus.on(RenderComposed.subject) == []
