"""The uploader on FastStream's in-memory broker, with no YouTube channel configured: a stored job without a target
is left alone; one with a target fails plainly, naming the settings that connect a channel.

The handlers' router is a module-level object and FastStream binds a router to the last broker that includes
it, so this module builds one runtime and every test shares it (each test uses its own ids).
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from faststream.nats import TestNatsBroker
from tests.bus_recording import BusRecorder, record_bus

from reelflow.contracts import (
    Asset,
    AssetKind,
    Chapter,
    DeadLetter,
    ErrorCode,
    LessonSpec,
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
from reelflow.runtime.service import ServiceRuntime, build_runtime
from reelflow.uploader.handlers import router
from reelflow.uploader.settings import UploaderSettings

DLQ_SUBJECT = "rf.dlq.uploader"


@dataclass(frozen=True)
class UploaderService:
    runtime: ServiceRuntime[UploaderSettings]
    recorder: BusRecorder


@pytest.fixture(scope="module")
def uploader_service(tmp_path_factory: pytest.TempPathFactory) -> UploaderService:
    blobs = DirectoryBlobStore(tmp_path_factory.mktemp("uploader-blobs"))
    runtime = build_runtime("uploader", UploaderSettings(), router, blobs=blobs, attempts=InMemoryAttemptStates())
    recorder = record_bus(runtime.broker)
    return UploaderService(runtime, recorder)


@pytest.fixture
def bus(uploader_service: UploaderService) -> Iterator[BusRecorder]:
    yield from uploader_service.recorder.cleared()


def render_stored(unique_id: str, *, publish: PublishTarget | None) -> RenderStored:
    scene = Scene(scene_id="s1", narration="Phishing is a scam.")
    spec = LessonSpec(
        script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Intro", scenes=[scene])]), publish=publish
    )
    video = Asset(
        kind=AssetKind.VIDEO,
        bucket="reelflow-media",
        key=f"videos/video-{unique_id}/script-{unique_id}/job-{unique_id}/video.mp4",
        size_bytes=4096,
        content_type="video/mp4",
        sha256="ab" * 32,
    )
    return RenderStored(
        job_id=f"job-{unique_id}",
        video_id=f"video-{unique_id}",
        script_id=f"script-{unique_id}",
        attempt=2,
        spec=spec,
        assets=[video],
        duration_sec=12.5,
    )


async def publish(service: UploaderService, event: RenderStored) -> None:
    async with TestNatsBroker(service.runtime.broker) as broker:
        await broker.publish(event.model_dump(mode="json"), RenderStored.subject)


async def test_a_job_without_a_publish_target_publishes_nothing(
    uploader_service: UploaderService, bus: BusRecorder, unique_id: str
) -> None:
    await publish(uploader_service, render_stored(unique_id, publish=None))

    assert bus.subjects() == [RenderStored.subject]
    assert bus.on(RenderPublished.subject) == []
    assert bus.on(RenderFailed.subject) == []
    assert bus.on(DLQ_SUBJECT) == []


async def test_a_publish_target_without_a_connected_channel_fails_plainly_naming_the_settings(
    uploader_service: UploaderService, bus: BusRecorder, unique_id: str
) -> None:
    stored = render_stored(unique_id, publish=PublishTarget(title="Phishing 101", privacy="unlisted"))

    await publish(uploader_service, stored)

    assert bus.on(RenderPublished.subject) == []
    [failed_message] = bus.on(RenderFailed.subject)
    failed = RenderFailed.model_validate(failed_message.json())
    assert (failed.job_id, failed.video_id, failed.attempt) == (stored.job_id, stored.video_id, 2)
    assert failed.error.code == ErrorCode.PUBLISH_FAILED
    assert failed.error.step == Step.PUBLISH
    assert "no YouTube channel is connected" in failed.error.message
    assert "REELFLOW_YOUTUBE_REFRESH_TOKEN" in failed.error.message
    assert failed_message.headers["Nats-Msg-Id"] == f"{stored.job_id}:2:reelflow.render.failed.v1"

    [letter_message] = bus.on(DLQ_SUBJECT)
    letter = DeadLetter.model_validate(letter_message.json())
    assert letter.service == "uploader"
    assert letter.job_id == stored.job_id
    assert letter.error.code == ErrorCode.PUBLISH_FAILED
    assert RenderStored.model_validate_json(letter.payload) == stored


async def test_a_stored_event_that_fails_validation_is_dead_lettered_as_internal(
    uploader_service: UploaderService, bus: BusRecorder, unique_id: str
) -> None:
    """Between services a malformed event is our bug, not the user's script."""
    body = render_stored(unique_id, publish=None).model_dump(mode="json")
    body["assets"][0]["sha256"] = "not-a-digest"
    async with TestNatsBroker(uploader_service.runtime.broker) as broker:
        await broker.publish(body, RenderStored.subject)

    [failed_message] = bus.on(RenderFailed.subject)
    failed = RenderFailed.model_validate(failed_message.json())
    assert failed.error.code == ErrorCode.INTERNAL
    assert "assets.0.sha256" in failed.error.message
    assert len(bus.on(DLQ_SUBJECT)) == 1
