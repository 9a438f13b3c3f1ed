"""Pure projections: the next state of a render job after an event. The ledger persists what these return."""

from datetime import datetime

from reelflow.contracts import (
    ACTIVE_STATUSES,
    Event,
    JobStatus,
    ProgressUpdate,
    Publication,
    RenderCancel,
    RenderComposed,
    RenderFailed,
    RenderJob,
    RenderNarrated,
    RenderPublished,
    RenderRequested,
    RenderStored,
    Step,
    move_job,
)
from reelflow.contracts.jobs import STEP_BANDS

STEP_DONE_BY_EVENT: dict[type[Event], Step] = {
    RenderNarrated: Step.GENERATE_TTS,
    RenderComposed: Step.COMPOSE_VIDEO,
    RenderStored: Step.UPLOAD_ASSETS,
    RenderPublished: Step.PUBLISH,
}


def job_from_request(request: RenderRequested, *, at: datetime) -> RenderJob:
    """The QUEUED job a render request describes (the Spring backend may publish requests straight to NATS)."""
    return RenderJob(
        job_id=request.job_id,
        video_id=request.video_id,
        script_id=request.script_id,
        attempt=request.attempt,
        spec=request.spec,
        created_at=at,
        updated_at=at,
    )


def _started(job: RenderJob, step: Step, at: datetime) -> RenderJob:
    if job.status == JobStatus.QUEUED:
        return move_job(job, JobStatus.PROCESSING, at=at, step=step)
    return job


def _advance(job: RenderJob, step: Step, progress: int, at: datetime) -> RenderJob:
    """Move progress forward only; a late or reordered event never pulls the bar back."""
    job = _started(job, step, at)
    if progress <= job.progress:
        return job
    return job.model_copy(update={"step": step, "progress": progress, "updated_at": at})


def _is_current(job: RenderJob | None, attempt: int) -> bool:
    return job is not None and job.attempt == attempt and job.status in ACTIVE_STATUSES


def project_progress(job: RenderJob | None, update: ProgressUpdate) -> RenderJob | None:
    if job is None or not _is_current(job, update.attempt):
        return None
    return _advance(job, update.step, update.progress, update.at)


def project_event(job: RenderJob | None, event: Event, *, at: datetime) -> RenderJob | None:
    """The job after ``event``, or None when the event changes nothing (stale attempt, finished job, replay)."""
    if isinstance(event, RenderRequested):
        if job is None:
            return job_from_request(event, at=at)
        return None
    if isinstance(event, RenderFailed):
        if job is None or not _is_current(job, event.attempt):
            return None
        return move_job(job, JobStatus.FAILED, at=at, error=event.error, step=_failed_step(event, job))
    if isinstance(event, RenderCancel):
        if job is None or not _is_current(job, event.attempt):
            return None
        return move_job(job, JobStatus.CANCELED, at=at)
    step = STEP_DONE_BY_EVENT.get(type(event))
    attempt = getattr(event, "attempt", None)
    if step is None or job is None or attempt is None or not _is_current(job, attempt):
        return None
    job = _advance(job, step, STEP_BANDS[step][1], at)
    if isinstance(event, RenderStored):
        job = job.model_copy(update={"assets": event.assets, "duration_sec": event.duration_sec})
    if isinstance(event, RenderPublished):
        publication = Publication(platform=event.platform, external_id=event.external_id, url=event.url)
        if publication not in job.publications:
            job = job.model_copy(update={"publications": [*job.publications, publication]})
    return job


def _failed_step(event: RenderFailed, job: RenderJob) -> Step | None:
    step = event.error.step
    return Step(step) if step is not None and step in Step.__members__ else job.step


def is_ready_to_finalize(job: RenderJob) -> bool:
    """Stored, and published too when the spec asked for it."""
    if job.status != JobStatus.PROCESSING or not job.assets:
        return False
    return job.spec.publish is None or bool(job.publications)


def finalize(job: RenderJob, *, at: datetime) -> RenderJob:
    finished = job.model_copy(update={"step": Step.FINALIZE, "progress": 100})
    return move_job(finished, JobStatus.COMPLETED, at=at, step=Step.FINALIZE)
