"""TTS subscribers: a render request comes in, the narrated job goes out."""

from reelflow.contracts import RenderRequested, Step
from reelflow.runtime.bus import Delivery, StepRouter
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.service import RuntimeDep
from reelflow.tts.enabled_providers import process_providers
from reelflow.tts.settings import TtsSettings
from reelflow.tts.voicing import voice_job

router = StepRouter()

# espeak-ng takes about a second a scene, a cloud voice a few (REELFLOW_SPEECH_REQUEST_TIMEOUT_SEC at most); a
# 40-scene lesson stays well inside 15 minutes.
TTS_DELIVERY = Delivery(
    durable="tts",
    ack_wait_sec=15,
    max_deliver=5,
    backoff_sec=(2, 10, 30, 60),
    handler_timeout_sec=900,
    step=Step.GENERATE_TTS,
)


@router.step(RenderRequested.subject, TTS_DELIVERY)
async def on_render_requested(request: RenderRequested, runtime: RuntimeDep[TtsSettings]) -> None:
    narrated = await voice_job(
        request,
        blobs=runtime.blobs,
        settings=runtime.settings,
        providers=await process_providers(runtime),
        progress=ProgressReporter(runtime.bus, job_id=request.job_id, attempt=request.attempt),
        cancel=runtime.cancellations.token_for(request.job_id, request.attempt),
    )
    await runtime.bus.publish(narrated)
