"""Storage subscribers: composed outputs become published assets; an ended attempt's scratch is cleaned."""

from reelflow.contracts import RenderCancel, RenderCompleted, RenderComposed, RenderFailed, Step
from reelflow.runtime.bus import Delivery, StepRouter
from reelflow.runtime.progress import ProgressReporter
from reelflow.runtime.service import RuntimeDep
from reelflow.storage.asset_destinations import destination_for
from reelflow.storage.publishing import clean_scratch, store_outputs
from reelflow.storage.settings import StorageSettings

router = StepRouter()

# Copies a few files; S3 calls carry their own timeouts and retries underneath.
STORAGE_DELIVERY = Delivery(
    durable="storage",
    ack_wait_sec=15,
    max_deliver=5,
    backoff_sec=(2, 10, 30, 60),
    handler_timeout_sec=600,
    step=Step.UPLOAD_ASSETS,
)


def cleanup_delivery(durable: str) -> Delivery:
    """Scratch cleanup consumes terminal events, so it must not drop messages of ended attempts; a cleanup that
    keeps failing is dead-lettered, and the periodic sweep removes what it left."""
    return Delivery(
        durable=durable,
        ack_wait_sec=15,
        max_deliver=3,
        backoff_sec=(10, 60),
        handler_timeout_sec=120,
        publish_failure=False,
        drop_finished_attempts=False,
    )


@router.step(RenderComposed.subject, STORAGE_DELIVERY)
async def on_render_composed(composed: RenderComposed, runtime: RuntimeDep[StorageSettings]) -> None:
    progress = ProgressReporter(runtime.bus, job_id=composed.job_id, attempt=composed.attempt)
    destination = destination_for(runtime.settings, runtime.blobs)
    stored = await store_outputs(
        composed, blobs=runtime.blobs, settings=runtime.settings, progress=progress, destination=destination
    )
    await runtime.bus.publish(stored)


@router.step(RenderCompleted.subject, cleanup_delivery("storage-cleanup"))
async def on_render_completed(completed: RenderCompleted, runtime: RuntimeDep[StorageSettings]) -> None:
    await clean_scratch(completed.job_id, completed.attempt, blobs=runtime.blobs, settings=runtime.settings)


@router.step(RenderFailed.subject, cleanup_delivery("storage-cleanup-failed"))
async def on_render_failed(failed: RenderFailed, runtime: RuntimeDep[StorageSettings]) -> None:
    await clean_scratch(failed.job_id, failed.attempt, blobs=runtime.blobs, settings=runtime.settings)


@router.step(RenderCancel.subject, cleanup_delivery("storage-cleanup-canceled"))
async def on_render_canceled(cancel: RenderCancel, runtime: RuntimeDep[StorageSettings]) -> None:
    await clean_scratch(cancel.job_id, cancel.attempt, blobs=runtime.blobs, settings=runtime.settings)
