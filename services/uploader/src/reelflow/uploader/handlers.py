"""Uploader subscribers: a stored job is published when its spec names a target, otherwise left alone."""

from reelflow.contracts import RenderStored, Step
from reelflow.runtime.bus import Delivery, StepRouter
from reelflow.runtime.service import RuntimeDep
from reelflow.uploader.publishing import publication_for
from reelflow.uploader.settings import UploaderSettings

router = StepRouter()

# A YouTube upload of a long video can take many minutes; in-progress acks keep it alive meanwhile.
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
    published = publication_for(stored)
    if published is not None:
        await runtime.bus.publish(published)
