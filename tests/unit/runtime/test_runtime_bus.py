"""CloudEvents headers, the event bus on an in-memory broker, and the throttled, monotonic progress reporter."""

import json
from datetime import UTC, datetime
from typing import Any

from faststream.nats import JStream, NatsBroker, TestNatsBroker
from faststream.nats.annotations import NatsMessage
from tests.bus_recording import RecordingBus

from reelflow.contracts import (
    STREAM_NAME,
    Chapter,
    LessonSpec,
    ProgressUpdate,
    RenderRequested,
    Scene,
    ScriptRequested,
    Step,
    VideoScript,
)
from reelflow.runtime.bus import EventBus, cloudevent_headers
from reelflow.runtime.progress import ProgressReporter

AT = datetime(2025, 3, 1, 9, 30, 15, tzinfo=UTC)


def render_requested(job_id: str = "job-1", attempt: int = 2) -> RenderRequested:
    scene = Scene(scene_id="s1", narration="Phishing is a scam.")
    spec = LessonSpec(script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Intro", scenes=[scene])]))
    return RenderRequested(job_id=job_id, video_id="video-1", attempt=attempt, spec=spec)


def test_cloudevent_headers_follow_the_nats_binding() -> None:
    event = render_requested()
    headers = cloudevent_headers(event, source="reelflow/gateway", event_id="e-1", at=AT)
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-id"] == "e-1"
    assert headers["ce-type"] == "reelflow.render.requested.v1"
    assert headers["ce-source"] == "reelflow/gateway"
    assert headers["ce-subject"] == "job-1"
    assert datetime.fromisoformat(headers["ce-time"]) == AT
    assert headers["content-type"] == "application/json"
    assert headers["Nats-Msg-Id"] == f"{event.job_id}:{event.attempt}:{event.event_type}"
    assert headers["Nats-Msg-Id"] == "job-1:2:reelflow.render.requested.v1"


def test_a_script_event_is_about_its_script() -> None:
    request = ScriptRequested(video_id="v1", script_id="script-5", source_text="Hello.")
    headers = cloudevent_headers(request, source="reelflow/gateway", event_id="e-2", at=AT)
    assert headers["ce-subject"] == "script-5"
    assert headers["Nats-Msg-Id"] == "script-5:1:reelflow.script.requested.v1"


def test_the_same_event_always_gets_the_same_idempotency_key() -> None:
    first = cloudevent_headers(render_requested(), source="a", event_id="e-1", at=AT)
    again = cloudevent_headers(render_requested(), source="b", event_id="e-2", at=datetime.now(UTC))
    next_attempt = cloudevent_headers(render_requested(attempt=3), source="a", event_id="e-3", at=AT)
    assert first["Nats-Msg-Id"] == again["Nats-Msg-Id"]
    assert first["Nats-Msg-Id"] != next_attempt["Nats-Msg-Id"]


async def test_the_bus_publishes_the_body_with_cloudevent_headers() -> None:
    broker = NatsBroker()
    received: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    @broker.subscriber("rf.>", stream=JStream(STREAM_NAME, declare=False))
    async def record(message: NatsMessage) -> None:
        received.append((message.raw_message.subject, json.loads(message.body), dict(message.headers)))

    bus = EventBus(broker, source="tts")
    event = render_requested()
    update = ProgressUpdate(job_id="job-1", attempt=2, step=Step.GENERATE_TTS, progress=27, at=AT)
    async with TestNatsBroker(broker):
        await bus.publish(event)
        await bus.publish(update)

    assert [subject for subject, _, _ in received] == ["rf.render.requested", "rf.progress.job-1"]
    _, body, headers = received[0]
    assert RenderRequested.model_validate(body) == event
    assert headers["ce-source"] == "reelflow/tts"
    assert headers["ce-type"] == "reelflow.render.requested.v1"
    assert headers["Nats-Msg-Id"] == "job-1:2:reelflow.render.requested.v1"
    assert len(headers["ce-id"]) == 32
    assert ProgressUpdate.model_validate(received[1][1]) == update


async def test_progress_never_goes_down() -> None:
    bus = RecordingBus()
    reporter = ProgressReporter(bus, job_id="job-1", attempt=1, min_interval_sec=0)
    await reporter.report(Step.GENERATE_TTS, 0.5)
    await reporter.report(Step.GENERATE_TTS, 0.2)
    await reporter.report(Step.VALIDATE_SCRIPT, 1.0)
    await reporter.report(Step.GENERATE_TTS, 0.8)
    assert bus.progress() == [27, 35]


async def test_the_same_progress_is_not_sent_twice() -> None:
    bus = RecordingBus()
    reporter = ProgressReporter(bus, job_id="job-1", attempt=1, min_interval_sec=0)
    await reporter.report(Step.COMPOSE_VIDEO, 0.50)
    await reporter.report(Step.COMPOSE_VIDEO, 0.51)
    await reporter.report(Step.COMPOSE_VIDEO, 0.515)
    assert bus.progress() == [72]


async def test_reports_are_throttled_but_the_end_of_a_step_is_always_sent() -> None:
    bus = RecordingBus()
    reporter = ProgressReporter(bus, job_id="job-1", attempt=1, min_interval_sec=60)
    for tenth in range(10):
        await reporter.report(Step.COMPOSE_VIDEO, tenth / 10)
    await reporter.report(Step.COMPOSE_VIDEO, 1.0)
    await reporter.report(Step.UPLOAD_ASSETS, 0.5)
    await reporter.report(Step.UPLOAD_ASSETS, 1.0)
    assert bus.progress() == [60, 85, 95]


async def test_a_finished_step_is_sent_even_at_the_same_progress() -> None:
    """COMPOSE_VIDEO done and UPLOAD_ASSETS started are both 85: the step change must still reach the UI."""
    bus = RecordingBus()
    reporter = ProgressReporter(bus, job_id="job-1", attempt=1, min_interval_sec=60)
    await reporter.report(Step.UPLOAD_ASSETS, 1.0)
    await reporter.report(Step.UPLOAD_ASSETS, 1.0)
    assert bus.progress() == [95, 95]


async def test_a_progress_update_names_the_job_attempt_and_step() -> None:
    bus = RecordingBus()
    reporter = ProgressReporter(bus, job_id="job-9", attempt=3, min_interval_sec=0)
    await reporter.report(Step.GENERATE_SUBTITLE, 0.5)
    await reporter.report(Step.RENDER_SLIDES, 0.5, "slide 2 of 4")
    first, second = bus.events
    assert isinstance(first, ProgressUpdate)
    assert isinstance(second, ProgressUpdate)
    assert (first.job_id, first.attempt, first.step, first.progress) == ("job-9", 3, Step.GENERATE_SUBTITLE, 45)
    assert first.message == "generate subtitle"
    assert first.subject_name() == "rf.progress.job-9"
    assert second.message == "slide 2 of 4"
    assert first.at <= second.at
