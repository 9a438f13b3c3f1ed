"""Storage subscribers: composed outputs become published assets; a completed job's scratch is cleaned."""

from faststream.nats import NatsRouter

from reelflow.contracts import RenderCompleted, RenderComposed, Step
from reelflow.runtime.bus import Delivery, ProgressReporter, durable_subscriber
from reelflow.runtime.service import RuntimeDep
from reelflow.storage.publishing import clean_scratch, store_outputs
from reelflow.storage.settings import StorageSettings

router = NatsRouter()

# Copies a few files; S3 calls carry their own timeouts and retries underneath.
STORAGE_DELIVERY = Delivery(
    durable="storage",
    ack_wait_sec=30,
    max_deliver=5,
    backoff_sec=(2, 10, 30, 60),
    handler_timeout_sec=600,
    max_workers=2,
    step=Step.UPLOAD_ASSETS,
)
CLEANUP_DELIVERY = Delivery(
    durable="storage-cleanup",
    ack_wait_sec=30,
    max_deliver=3,
    backoff_sec=(10, 60),
    handler_timeout_sec=120,
    publish_failure=False,
)
DELIVERIES = {RenderComposed.subject: STORAGE_DELIVERY, RenderCompleted.subject: CLEANUP_DELIVERY}


@durable_subscriber(router, RenderComposed.subject, STORAGE_DELIVERY)
async def on_render_composed(composed: RenderComposed, runtime: RuntimeDep[StorageSettings]) -> None:
    progress = ProgressReporter(runtime.bus, job_id=composed.job_id, attempt=composed.attempt)
    stored = await store_outputs(composed, blobs=runtime.blobs, settings=runtime.settings, progress=progress)
    await runtime.bus.publish(stored)


@durable_subscriber(router, RenderCompleted.subject, CLEANUP_DELIVERY)
async def on_render_completed(completed: RenderCompleted, runtime: RuntimeDep[StorageSettings]) -> None:
    await clean_scratch(completed.job_id, completed.attempt, blobs=runtime.blobs, settings=runtime.settings)
