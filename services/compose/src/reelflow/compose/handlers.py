"""Compose subscribers: a narrated job comes in, the composed job goes out."""

from reelflow.compose.compose_step import compose_narrated_job
from reelflow.compose.fonts import find_fonts
from reelflow.compose.settings import ComposeSettings
from reelflow.contracts import RenderNarrated, Step
from reelflow.runtime.bus import Delivery, StepRouter
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.service import RuntimeDep

router = StepRouter()

# One job at a time per replica: FFmpeg already uses every core. In-progress acks every 5 s keep a long
# render alive; a crashed replica's job is redelivered after 15 s.
COMPOSE_DELIVERY = Delivery(
    durable="compose",
    ack_wait_sec=15,
    max_deliver=5,
    backoff_sec=(5, 30, 120),
    handler_timeout_sec=3600,
    step=Step.COMPOSE_VIDEO,
)


@router.step(RenderNarrated.subject, COMPOSE_DELIVERY)
async def on_render_narrated(narrated: RenderNarrated, runtime: RuntimeDep[ComposeSettings]) -> None:
    composed = await compose_narrated_job(
        narrated,
        blobs=runtime.blobs,
        settings=runtime.settings,
        fonts=find_fonts(runtime.settings.compose_font_path),
        progress=ProgressReporter(runtime.bus, job_id=narrated.job_id, attempt=narrated.attempt),
        cancel=runtime.cancellations.token_for(narrated.job_id, narrated.attempt),
    )
    await runtime.bus.publish(composed)
