"""A two-step service on FastStream's in-memory broker, wired by the real runtime, for the metric and trace tests.

``rf.render.requested`` is narrated (the first step publishes ``rf.render.narrated``) and the second step takes it.
A job id chooses what the first step does: ``fail-retry-…`` raises a retryable error, ``fail-final-…`` a
non-retryable one, anything else succeeds.
"""

from dataclasses import dataclass, field
from pathlib import Path

from faststream.nats import TestNatsBroker
from prometheus_client import REGISTRY

from reelflow.contracts import (
    STREAM_NAME,
    Chapter,
    LessonSpec,
    RenderNarrated,
    RenderRequested,
    Scene,
    SceneNarration,
    VideoScript,
)
from reelflow.runtime.attempts import InMemoryAttemptStates
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.bus import Delivery, StepRouter
from reelflow.runtime.failures import RenderError
from reelflow.runtime.service import RuntimeDep, ServiceRuntime, build_runtime
from reelflow.runtime.settings import ServiceSettings
from tests.bus_recording import BusRecorder, record_bus

NARRATE = Delivery(durable="probe-narrate", max_deliver=3, backoff_sec=(1.0,))
COMPOSE = Delivery(durable="probe-compose", max_deliver=3, backoff_sec=(1.0,))
RETRYABLE_PREFIX, FINAL_PREFIX = "fail-retry-", "fail-final-"


@dataclass
class ProbeService:
    runtime: ServiceRuntime[ServiceSettings]
    recorder: BusRecorder
    # What the in-flight gauge read while each step ran, by job id.
    in_flight_seen: dict[str, float] = field(default_factory=dict)

    async def publish(self, body: object, subject: str, *, delivered: int = 1) -> None:
        """Deliver ``body`` as JetStream would, the ``delivered``-th time."""
        async with TestNatsBroker(self.runtime.broker) as broker:
            await broker.publish(body, subject, reply_to=jetstream_reply(NARRATE.durable, delivered))

    async def publish_event(self, event: RenderRequested) -> None:
        """Publish through the service's own bus (so the current trace context travels with it)."""
        async with TestNatsBroker(self.runtime.broker):
            await self.runtime.bus.publish(event)


def jetstream_reply(durable: str, delivered: int) -> str:
    """The ack subject JetStream puts on a message; the middleware reads the delivery count from it."""
    return f"$JS.ACK.{STREAM_NAME}.{durable}.{delivered}.10.10.1700000000000000000.0"


def render_requested(job_id: str) -> RenderRequested:
    scene = Scene(scene_id="s1", narration="Lift with your knees.")
    spec = LessonSpec(script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Lifting", scenes=[scene])]))
    return RenderRequested(job_id=job_id, video_id="video-1", attempt=1, spec=spec)


def build_probe_service(blob_dir: Path) -> ProbeService:
    router = StepRouter()
    service: ProbeService

    @router.step(RenderRequested.subject, NARRATE)
    async def narrate(request: RenderRequested, runtime: RuntimeDep[ServiceSettings]) -> None:
        in_flight = REGISTRY.get_sample_value("reelflow_messages_in_flight", {"step": NARRATE.durable})
        service.in_flight_seen[request.job_id] = in_flight or 0.0
        if request.job_id.startswith(RETRYABLE_PREFIX):
            raise RenderError("the encoder crashed", retryable=True)
        if request.job_id.startswith(FINAL_PREFIX):
            raise RenderError("the slide cannot be drawn")
        narration = [SceneNarration(scene_id="s1", audio_key="k", duration_sec=1.0)]
        await runtime.bus.publish(
            RenderNarrated(
                job_id=request.job_id, video_id=request.video_id, attempt=1, spec=request.spec, narration=narration
            )
        )

    @router.step(RenderNarrated.subject, COMPOSE)
    async def compose(narrated: RenderNarrated) -> None:
        return None

    runtime = build_runtime(
        "probe",
        ServiceSettings(),
        router,
        blobs=DirectoryBlobStore(blob_dir),
        attempts=InMemoryAttemptStates(),
    )
    service = ProbeService(runtime, record_bus(runtime.broker))
    return service
