"""The render job status machine (DESIGN §3) and the progress bands of each step."""

import math
from datetime import UTC, datetime, timedelta

import pydantic
import pytest

from reelflow.contracts import (
    STEP_BANDS,
    Asset,
    AssetKind,
    Chapter,
    ErrorCode,
    ErrorInfo,
    IllegalTransitionError,
    JobStatus,
    LessonSpec,
    RenderJob,
    Scene,
    Step,
    VideoScript,
    check_transition,
    move_job,
    progress_in_step,
    retry_job,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

# Written out from DESIGN §3, not read from the implementation: QUEUED → PROCESSING → COMPLETED | FAILED |
# CANCELED, FAILED|CANCELED → QUEUED on retry, plus QUEUED → FAILED|CANCELED (a poison request or a cancel
# can end a job before any step starts).
LEGAL_MOVES: frozenset[tuple[JobStatus, JobStatus]] = frozenset(
    {
        (JobStatus.QUEUED, JobStatus.PROCESSING),
        (JobStatus.QUEUED, JobStatus.FAILED),
        (JobStatus.QUEUED, JobStatus.CANCELED),
        (JobStatus.PROCESSING, JobStatus.COMPLETED),
        (JobStatus.PROCESSING, JobStatus.FAILED),
        (JobStatus.PROCESSING, JobStatus.CANCELED),
        (JobStatus.FAILED, JobStatus.QUEUED),
        (JobStatus.CANCELED, JobStatus.QUEUED),
    }
)
ALL_MOVES = [(current, target) for current in JobStatus for target in JobStatus]
ILLEGAL_MOVES = [move for move in ALL_MOVES if move not in LEGAL_MOVES]


def lesson_spec() -> LessonSpec:
    scene = Scene(scene_id="s1", narration="Phishing is a scam.", on_screen_text="Phishing", duration_sec=2.5)
    return LessonSpec(
        language="en", script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Intro", scenes=[scene])])
    )


def new_job(**update: object) -> RenderJob:
    job = RenderJob(
        job_id="job-1", video_id="video-1", script_id="script-1", spec=lesson_spec(), created_at=T0, updated_at=T0
    )
    return job.model_copy(update=update)


def video_asset() -> Asset:
    return Asset(
        kind=AssetKind.VIDEO,
        bucket="reelflow-media",
        key="videos/video-1/script-1/job-1/video.mp4",
        size_bytes=1024,
        content_type="video/mp4",
        sha256="a" * 64,
    )


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL_MOVES))
def test_every_legal_move_passes(current: JobStatus, target: JobStatus) -> None:
    check_transition(current, target)
    moved = move_job(new_job(status=current), target, at=T0 + timedelta(seconds=1))
    assert moved.status == target


@pytest.mark.parametrize(("current", "target"), ILLEGAL_MOVES)
def test_every_illegal_move_raises_naming_both_states(current: JobStatus, target: JobStatus) -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        check_transition(current, target)
    message = str(caught.value)
    assert f"a {current.value} job" in message
    assert f"cannot become {target.value}" in message


@pytest.mark.parametrize(("current", "target"), ILLEGAL_MOVES)
def test_move_job_refuses_illegal_moves_and_leaves_the_job_alone(current: JobStatus, target: JobStatus) -> None:
    job = new_job(status=current)
    with pytest.raises(IllegalTransitionError):
        move_job(job, target, at=T0)
    assert job.status == current
    assert job.history == []


def test_completed_is_final() -> None:
    for target in JobStatus:
        with pytest.raises(IllegalTransitionError, match="final"):
            check_transition(JobStatus.COMPLETED, target)
    with pytest.raises(IllegalTransitionError):
        retry_job(new_job(status=JobStatus.COMPLETED), at=T0)


def test_move_job_records_history_and_keeps_the_step_unless_given() -> None:
    at1, at2, at3 = T0 + timedelta(seconds=1), T0 + timedelta(seconds=2), T0 + timedelta(seconds=3)
    processing = move_job(new_job(), JobStatus.PROCESSING, at=at1, step=Step.GENERATE_TTS)
    error = ErrorInfo(code=ErrorCode.RENDER_FAILED, message="ffmpeg exited with code 1", step="COMPOSE_VIDEO")
    failed = move_job(processing, JobStatus.FAILED, at=at2, error=error)
    queued = retry_job(failed, at=at3)

    assert [(entry.status, entry.step, entry.at) for entry in queued.history] == [
        (JobStatus.PROCESSING, Step.GENERATE_TTS, at1),
        (JobStatus.FAILED, Step.GENERATE_TTS, at2),
        (JobStatus.QUEUED, None, at3),
    ]
    assert failed.step == Step.GENERATE_TTS
    assert failed.error == error
    assert failed.updated_at == at2
    assert failed.created_at == T0


def test_move_job_sets_an_error_only_on_failure_or_cancel() -> None:
    error = ErrorInfo(code=ErrorCode.INTERNAL, message="boom")
    processing = move_job(new_job(), JobStatus.PROCESSING, at=T0, error=error)
    assert processing.error is None
    canceled = move_job(processing, JobStatus.CANCELED, at=T0, error=error)
    assert canceled.error == error


@pytest.mark.parametrize("ended", [JobStatus.FAILED, JobStatus.CANCELED])
def test_retry_starts_a_fresh_attempt_on_the_same_spec(ended: JobStatus) -> None:
    error = ErrorInfo(code=ErrorCode.TTS_FAILED, message="espeak-ng exited with code 1", step="GENERATE_TTS")
    job = new_job(
        status=ended,
        attempt=2,
        step=Step.COMPOSE_VIDEO,
        progress=72,
        error=error,
        assets=[video_asset()],
        duration_sec=61.5,
    )
    at = T0 + timedelta(minutes=5)

    retried = retry_job(job, at=at)

    assert retried.status == JobStatus.QUEUED
    assert retried.attempt == 3
    assert retried.progress == 0
    assert retried.step is None
    assert retried.error is None
    assert retried.assets == []
    assert retried.duration_sec is None
    assert retried.spec == job.spec
    assert (retried.job_id, retried.video_id, retried.script_id) == (job.job_id, job.video_id, job.script_id)
    assert len(retried.history) == len(job.history) + 1
    assert retried.history[-1].status == JobStatus.QUEUED
    assert retried.history[-1].at == at
    assert retried.updated_at == at


@pytest.mark.parametrize("active", [JobStatus.QUEUED, JobStatus.PROCESSING])
def test_an_active_job_cannot_be_retried(active: JobStatus) -> None:
    with pytest.raises(IllegalTransitionError, match=f"a {active.value} job cannot become QUEUED"):
        retry_job(new_job(status=active), at=T0)


def test_step_bands_follow_design() -> None:
    assert STEP_BANDS[Step.VALIDATE_SCRIPT] == (0, 15)
    assert STEP_BANDS[Step.GENERATE_TTS] == (15, 40)
    assert STEP_BANDS[Step.GENERATE_SUBTITLE] == (40, 50)
    assert STEP_BANDS[Step.RENDER_SLIDES] == (50, 60)
    assert STEP_BANDS[Step.COMPOSE_VIDEO] == (60, 85)
    assert STEP_BANDS[Step.UPLOAD_ASSETS] == (85, 95)
    assert STEP_BANDS[Step.FINALIZE][1] == 100
    assert set(STEP_BANDS) == set(Step)


def test_the_end_of_each_band_never_goes_backwards_in_step_order() -> None:
    ends = [progress_in_step(step, 1.0) for step in Step]
    assert ends == sorted(ends)
    assert ends[-1] == 100


@pytest.mark.parametrize(
    ("step", "fraction", "expected"),
    [
        (Step.GENERATE_TTS, 0.5, 27),
        (Step.GENERATE_TTS, 0.0, 15),
        (Step.GENERATE_TTS, 1.0, 40),
        (Step.VALIDATE_SCRIPT, 0.0, 0),
        (Step.COMPOSE_VIDEO, 0.5, 72),
        (Step.UPLOAD_ASSETS, 0.99, 94),
        (Step.FINALIZE, 1.0, 100),
    ],
)
def test_progress_in_step_maps_a_fraction_into_the_band(step: Step, fraction: float, expected: int) -> None:
    assert progress_in_step(step, fraction) == expected


@pytest.mark.parametrize("step", list(Step))
def test_progress_in_step_clamps_to_the_band(step: Step) -> None:
    low, high = STEP_BANDS[step]
    assert progress_in_step(step, -3.0) == low
    assert progress_in_step(step, 7.5) == high
    assert progress_in_step(step, math.nan) == low


def test_a_rejected_request_is_a_job_without_a_spec_that_cannot_be_retried() -> None:
    error = ErrorInfo(code=ErrorCode.INVALID_SCRIPT, message="message on rf.render.requested is not valid JSON")
    queued = RenderJob(job_id="job-9", video_id=None, spec=None, created_at=T0, updated_at=T0)
    rejected = move_job(queued, JobStatus.FAILED, at=T0, error=error)
    assert rejected.spec is None and rejected.video_id is None and rejected.error == error
    with pytest.raises(IllegalTransitionError, match="no spec to render again"):
        retry_job(rejected, at=T0)
    with pytest.raises(pydantic.ValidationError, match="spec"):
        RenderJob.model_validate({"job_id": "job-9", "video_id": "v", "created_at": T0, "updated_at": T0})
