"""Uploader subscribers: a stored job is published when its spec names a target, otherwise left alone."""

from reelflow.contracts import RenderStored, Step
from reelflow.runtime.bus import Delivery, StepRouter
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.service import RuntimeDep
from reelflow.uploader.channel_credentials import channel_credentials
from reelflow.uploader.publishing import PublishContext, publication_for
from reelflow.uploader.settings import UploaderSettings

router = StepRouter()

# A YouTube upload of a long video can take many minutes; in-progress acks keep it alive meanwhile. A delivery
# that fails after its own retries (YouTube down, the network gone) is redelivered after the backoff, and the
# upload goes on from the offset YouTube reports.
UPLOADER_DELIVERY = Delivery(
    durable="uploader",
    ack_wait_sec=15,
    max_deliver=5,
    backoff_sec=(10, 60, 300),
    handler_timeout_sec=3600,
    step=Step.PUBLISH,
)


@router.step(RenderStored.subject, UPLOADER_DELIVERY)
async def on_render_stored(stored: RenderStored, runtime: RuntimeDep[UploaderSettings]) -> None:
    context = PublishContext(
        blobs=runtime.blobs,
        settings=runtime.settings,
        channels=channel_credentials(runtime.extras, runtime.settings, runtime.blobs),
        progress=ProgressReporter(runtime.bus, job_id=stored.job_id, attempt=stored.attempt),
        cancel=runtime.cancellations.token_for(stored.job_id, stored.attempt),
    )
    published = await publication_for(stored, context)
    if published is not None:
        await runtime.bus.publish(published)
