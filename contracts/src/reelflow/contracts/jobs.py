"""The render job document, its steps with their progress bands, and the status machine that guards it."""

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from reelflow.contracts._base import Contract
from reelflow.contracts.errors import ErrorInfo
from reelflow.contracts.scripts import NonBlank
from reelflow.contracts.specs import RenderSpec


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


ACTIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.PROCESSING})
TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})


class Step(StrEnum):
    VALIDATE_SCRIPT = "VALIDATE_SCRIPT"
    GENERATE_TTS = "GENERATE_TTS"
    GENERATE_SUBTITLE = "GENERATE_SUBTITLE"
    RENDER_SLIDES = "RENDER_SLIDES"
    COMPOSE_VIDEO = "COMPOSE_VIDEO"
    UPLOAD_ASSETS = "UPLOAD_ASSETS"
    PUBLISH = "PUBLISH"
    FINALIZE = "FINALIZE"


# PUBLISH has no band in DESIGN §3; it takes 95–99 so the bar still moves during an upload, and FINALIZE
# then only ever reports 100, which keeps progress monotonic whether or not a job publishes.
STEP_BANDS: dict[Step, tuple[int, int]] = {
    Step.VALIDATE_SCRIPT: (0, 15),
    Step.GENERATE_TTS: (15, 40),
    Step.GENERATE_SUBTITLE: (40, 50),
    Step.RENDER_SLIDES: (50, 60),
    Step.COMPOSE_VIDEO: (60, 85),
    Step.UPLOAD_ASSETS: (85, 95),
    Step.PUBLISH: (95, 99),
    Step.FINALIZE: (95, 100),
}


def progress_in_step(step: Step, fraction: float) -> int:
    """Overall job progress (0–100) when ``step`` is ``fraction`` (0–1) done."""
    low, high = STEP_BANDS[step]
    clamped = min(1.0, max(0.0, fraction))
    return int(low + (high - low) * clamped)


class AssetKind(StrEnum):
    VIDEO = "video"
    SUBTITLES_SRT = "subtitles_srt"
    SUBTITLES_VTT = "subtitles_vtt"
    THUMBNAIL = "thumbnail"
    CHAPTERS = "chapters"


class Asset(Contract):
    kind: AssetKind
    bucket: str
    key: str
    url: str | None = None
    size_bytes: int = Field(ge=0)
    content_type: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Publication(Contract):
    platform: str
    external_id: str
    url: str


class HistoryEntry(Contract):
    status: JobStatus
    step: Step | None = None
    at: datetime


class RenderJob(Contract):
    """A render job as the ledger records it.

    ``spec`` (and possibly ``video_id``) is null only for a *rejected request*: an ``rf.render.requested`` that was
    published straight to the bus but could not be read or failed its contract. The bus knows its job id (the
    step that dead-lettered it published ``rf.render.failed``), so the job exists, FAILED, with the reason in
    ``error``; it has nothing to render, so it cannot be retried.
    """

    job_id: NonBlank
    video_id: NonBlank | None = Field(description="Null only for a rejected request whose body could not be read.")
    script_id: str | None = None
    attempt: int = Field(default=1, ge=1)
    status: JobStatus = JobStatus.QUEUED
    step: Step | None = None
    progress: int = Field(default=0, ge=0, le=100)
    spec: RenderSpec | None = Field(
        description="The frozen snapshot the job renders; null only for a rejected request (status FAILED)."
    )
    assets: list[Asset] = Field(default_factory=list)
    duration_sec: float | None = None
    publications: list[Publication] = Field(default_factory=list)
    error: ErrorInfo | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class IllegalTransitionError(ValueError):
    """A status move the job state machine does not allow."""


_ALLOWED_MOVES: dict[JobStatus, frozenset[JobStatus]] = {
    # QUEUED may fail or be canceled directly: a poison request fails before any step starts.
    JobStatus.QUEUED: frozenset({JobStatus.PROCESSING, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.PROCESSING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELED: frozenset({JobStatus.QUEUED}),
}


def check_transition(current: JobStatus, target: JobStatus) -> None:
    """Raise :class:`IllegalTransitionError` unless ``current → target`` is a legal move."""
    if target not in _ALLOWED_MOVES[current]:
        allowed = ", ".join(sorted(_ALLOWED_MOVES[current])) or "nothing (it is final)"
        raise IllegalTransitionError(f"a {current} job cannot become {target}; from {current} it can become {allowed}")


def move_job(
    job: RenderJob,
    target: JobStatus,
    *,
    at: datetime,
    step: Step | None = None,
    error: ErrorInfo | None = None,
) -> RenderJob:
    """Return ``job`` moved to ``target``, with the move recorded in its history."""
    check_transition(job.status, target)
    new_step = step if step is not None else job.step
    return job.model_copy(
        update={
            "status": target,
            "step": new_step,
            "error": error if target in (JobStatus.FAILED, JobStatus.CANCELED) else job.error,
            "history": [*job.history, HistoryEntry(status=target, step=new_step, at=at)],
            "updated_at": at,
        }
    )


def retry_job(job: RenderJob, *, at: datetime) -> RenderJob:
    """FAILED|CANCELED → QUEUED as attempt + 1 on the same spec snapshot; a rejected request has none to retry."""
    check_transition(job.status, JobStatus.QUEUED)
    if job.spec is None:
        raise IllegalTransitionError(
            f"job {job.job_id} was a rejected request ({job.error.message if job.error else 'unreadable'}); it has "
            "no spec to render again: publish a corrected rf.render.requested under a new job id"
        )
    return job.model_copy(
        update={
            "status": JobStatus.QUEUED,
            "attempt": job.attempt + 1,
            "step": None,
            "progress": 0,
            "error": None,
            "assets": [],
            "duration_sec": None,
            "history": [*job.history, HistoryEntry(status=JobStatus.QUEUED, step=None, at=at)],
            "updated_at": at,
        }
    )
