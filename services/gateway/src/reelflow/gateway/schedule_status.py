"""What a schedule's item shows: its status, read from the ledger (its script request, its script and its video's
newest render job) rather than kept twice, and the views GET answers with.

The steps of a render job as the channel operators' statuses name them. The pipeline has no separate image step:
narration and the slides (the pictures) are made before the compose, so everything up to RENDER_SLIDES is
"image_processing", the compose and the storing of the files "video_processing", and from the stored files to the
end of the upload "youtube_processing".
"""

from datetime import UTC, datetime

from reelflow.contracts import (
    ErrorInfo,
    JobStatus,
    RenderDefaults,
    RenderJob,
    Script,
    ScriptOptions,
    ScriptStatus,
    Step,
)
from reelflow.gateway.schedule_bodies import (
    Document,
    ItemError,
    ItemStatus,
    ItemView,
    PublishPlan,
    QueuedTitle,
    ScheduleKind,
    ScheduleView,
)
from reelflow.gateway.schedules import script_id_of, video_id_of
from reelflow.gateway.store import ScriptRequestRecord, ScriptRequestState

IMAGE_STEPS = frozenset({Step.VALIDATE_SCRIPT, Step.GENERATE_TTS, Step.GENERATE_SUBTITLE, Step.RENDER_SLIDES})


def item_status(
    item: Document, request: ScriptRequestRecord | None, script: Script | None, job: RenderJob | None
) -> tuple[ItemStatus, ItemError | None]:
    """An item's status, read from the ledger: its script request, its script and its video's newest job."""
    if item["fired_at"] is None:
        return ItemStatus.SCHEDULED, None
    if item.get("error"):
        return ItemStatus.FAILED, ItemError.model_validate(item["error"])
    if job is not None:
        return _job_status(job)
    if script is not None:
        if script.status == ScriptStatus.DRAFT:
            return ItemStatus.WAITING_REVIEW, None
        if script.status == ScriptStatus.ARCHIVED:
            return ItemStatus.FAILED, ItemError(code="ARCHIVED", message="the script was archived before it rendered")
        return ItemStatus.IMAGE_PROCESSING, None  # approved: its render job is being started
    if request is not None and request.state == ScriptRequestState.FAILED:
        return ItemStatus.FAILED, _error_of(request.error, "the script could not be written")
    return ItemStatus.SCRIPT_PROCESSING, None


def _job_status(job: RenderJob) -> tuple[ItemStatus, ItemError | None]:
    if job.status == JobStatus.COMPLETED:
        return ItemStatus.COMPLETED, None
    if job.status in (JobStatus.FAILED, JobStatus.CANCELED):
        return ItemStatus.FAILED, _error_of(job.error, f"the render job {job.status.value.lower()}")
    publishing = job.spec is not None and job.spec.publish is not None
    # Once its files are stored (it has assets), all a publishing job has left is the upload.
    if job.step == Step.PUBLISH or (publishing and (job.assets or job.step == Step.FINALIZE)):
        return ItemStatus.YOUTUBE_PROCESSING, None
    if job.step is None or job.step in IMAGE_STEPS:
        return ItemStatus.IMAGE_PROCESSING, None
    return ItemStatus.VIDEO_PROCESSING, None


def _error_of(error: ErrorInfo | None, fallback: str) -> ItemError:
    if error is None:
        return ItemError(code="FAILED", message=fallback)
    return ItemError(code=error.code.value, message=error.message)


def item_view(
    schedule_id: str,
    item: Document,
    request: ScriptRequestRecord | None,
    script: Script | None,
    job: RenderJob | None,
) -> ItemView:
    status, error = item_status(item, request, script, job)
    fired_at = item["fired_at"]
    url = next((publication.url for publication in job.publications if publication.url), None) if job else None
    return ItemView(
        item_id=item["item_id"],
        title=item["title"],
        topic=item.get("topic") or "",
        source_chars=len(item.get("source_text") or ""),
        due_at=datetime.fromtimestamp(item["due_at"], UTC),
        due_local=item["due_local"],
        timezone=item["timezone"],
        status=status,
        fired_at=datetime.fromtimestamp(fired_at, UTC) if fired_at is not None else None,
        video_id=video_id_of(schedule_id, item["item_id"]) if fired_at is not None else None,
        script_id=script_id_of(schedule_id, item["item_id"]) if fired_at is not None else None,
        job_id=job.job_id if job is not None else item.get("job_id"),
        published_url=url,
        error=error,
    )


def schedule_view(document: Document, items: list[ItemView]) -> ScheduleView:
    publish = document.get("publish")
    return ScheduleView(
        schedule_id=document["_id"],
        name=document["name"],
        kind=ScheduleKind(document["kind"]),
        timezone=document["timezone"],
        cron=document.get("cron"),
        enabled=document["enabled"],
        auto_approve=document["auto_approve"],
        options=ScriptOptions.model_validate(document["options"]),
        render=RenderDefaults.model_validate(document["render"]),
        publish=PublishPlan.model_validate(publish) if publish else None,
        next_due_at=datetime.fromtimestamp(document["next_due_at"], UTC) if document["waiting"] else None,
        queue=[QueuedTitle.model_validate(title) for title in document["queue"]],
        items=items,
        created_at=datetime.fromtimestamp(document["created_at"], UTC),
        updated_at=datetime.fromtimestamp(document["updated_at"], UTC),
    )
