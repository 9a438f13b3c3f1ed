"""Pure projections: the next state of a render job after an event. The ledger persists what these return.

Terminal states come only from terminal events on the stream (``rf.render.completed``, ``rf.render.failed``,
``rf.render.cancel``), each of which won its attempt's claim, so the job never shows COMPLETED while the bus says
CANCELED, or the other way round.
"""

from datetime import datetime

from reelflow.contracts import (
    ACTIVE_STATUSES,
    Event,
    JobStatus,
    ProgressUpdate,
    Publication,
    RenderCancel,
    RenderCompleted,
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
from reelflow.gateway.asset_urls import with_urls

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


def rejected_request(failure: RenderFailed, *, at: datetime) -> RenderJob:
    """The FAILED job of a request the bus rejected before it could be read: only its failure names it.

    It has no spec (null ``spec``, and no ``video_id`` when the body was unreadable) and so cannot be retried;
    ``error`` carries the reason the step that dead-lettered it gave.
    """
    queued = RenderJob(
        job_id=failure.job_id,
        video_id=failure.video_id,
        attempt=failure.attempt,
        spec=None,
        created_at=at,
        updated_at=at,
    )
    return move_job(queued, JobStatus.FAILED, at=at, error=failure.error, step=_failed_step(failure, queued))


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
        if job.spec is None and job.attempt == event.attempt:
            # Its failure was projected first (a redelivery reordered them): keep the failure, learn the request.
            return job.model_copy(update={"spec": event.spec, "video_id": event.video_id, "script_id": event.script_id})
        return None
    if isinstance(event, RenderFailed):
        if job is None:
            return rejected_request(event, at=at)
        if not _is_current(job, event.attempt):
            return None
        return move_job(job, JobStatus.FAILED, at=at, error=event.error, step=_failed_step(event, job))
    if isinstance(event, RenderCompleted):
        if job is None or not _is_current(job, event.attempt):
            return None
        summary = {"assets": event.assets, "publications": event.publications}
        duration = {"duration_sec": event.duration_sec} if event.duration_sec is not None else {}
        return finalize(job.model_copy(update=summary | duration), at=at)
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
    if job.status != JobStatus.PROCESSING or not job.assets or job.spec is None:
        return False
    return job.spec.publish is None or bool(job.publications)


def completion_of(
    job: RenderJob, *, script_version: int | None = None, assets_base_url: str | None = None
) -> RenderCompleted:
    """The ``rf.render.completed`` a job ready to finalize owes; the job is COMPLETED once the stream carries it.

    It names the script version the job rendered, when known, and, given the gateway's public base URL, where each
    asset is downloaded.
    """
    if job.video_id is None:
        raise ValueError(f"job {job.job_id} has no video_id, so it cannot have been rendered")
    assets = with_urls(job.assets, job.job_id, assets_base_url) if assets_base_url else job.assets
    return RenderCompleted(
        job_id=job.job_id,
        video_id=job.video_id,
        script_id=job.script_id,
        attempt=job.attempt,
        assets=assets,
        publications=job.publications,
        duration_sec=job.duration_sec,
        script_version=script_version,
    )


def finalize(job: RenderJob, *, at: datetime) -> RenderJob:
    finished = job.model_copy(update={"step": Step.FINALIZE, "progress": 100})
    return move_job(finished, JobStatus.COMPLETED, at=at, step=Step.FINALIZE)
