"""TTS subscribers: a render request comes in, the narrated job goes out."""

from faststream.nats import NatsRouter

from reelflow.contracts import RenderRequested, Step
from reelflow.runtime.bus import Delivery, ProgressReporter, durable_subscriber
from reelflow.runtime.service import RuntimeDep
from reelflow.tts.settings import TtsSettings
from reelflow.tts.voicing import voice_job

router = NatsRouter()

# espeak-ng takes about a second a scene; a 40-scene lesson stays well inside 15 minutes.
TTS_DELIVERY = Delivery(
    durable="tts",
    ack_wait_sec=30,
    max_deliver=5,
    backoff_sec=(2, 10, 30, 60),
    handler_timeout_sec=900,
    max_workers=2,
    step=Step.GENERATE_TTS,
)
DELIVERIES = {RenderRequested.subject: TTS_DELIVERY}


@durable_subscriber(router, RenderRequested.subject, TTS_DELIVERY)
async def on_render_requested(request: RenderRequested, runtime: RuntimeDep[TtsSettings]) -> None:
    narrated = await voice_job(
        request,
        blobs=runtime.blobs,
        settings=runtime.settings,
        progress=ProgressReporter(runtime.bus, job_id=request.job_id, attempt=request.attempt),
        cancel=runtime.cancellations.token_for(request.job_id),
    )
    await runtime.bus.publish(narrated)
