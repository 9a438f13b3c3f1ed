"""Decides whether a stored job is published anywhere, and publishes it."""

from reelflow.contracts import RenderPublished, RenderStored
from reelflow.runtime.failures import PublishError


def publication_for(stored: RenderStored) -> RenderPublished | None:
    """None when the spec names no publish target: the ledger then finalizes the job on ``rf.render.stored``."""
    target = stored.spec.publish
    if target is None:
        return None
    # Named plainly instead of pretending: the job fails with PUBLISH_FAILED and this message.
    raise PublishError(
        f"job {stored.job_id}: publishing to {target.platform} is not built yet; "
        "render without spec.publish and upload the stored video.mp4 yourself",
        retryable=False,
    )
