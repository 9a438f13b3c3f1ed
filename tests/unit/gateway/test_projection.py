"""The ledger's pure projection: a render job's next state after each event, never moving backwards."""

from datetime import UTC, datetime, timedelta

import pytest

from reelflow.contracts import (
    Asset,
    AssetKind,
    Chapter,
    ComposedOutputs,
    ErrorCode,
    ErrorInfo,
    IllegalTransitionError,
    JobStatus,
    LessonSpec,
    ProgressUpdate,
    Publication,
    PublishTarget,
    RenderCancel,
    RenderCompleted,
    RenderComposed,
    RenderFailed,
    RenderJob,
    RenderNarrated,
    RenderPublished,
    RenderRequested,
    RenderStored,
    Scene,
    SceneNarration,
    Step,
    VideoScript,
    retry_job,
)
from reelflow.gateway.projection import (
    completion_of,
    finalize,
    is_ready_to_finalize,
    project_event,
    project_progress,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
JOB_ID, VIDEO_ID, SCRIPT_ID = "job-1", "video-1", "script-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def spec(*, publish: bool = False) -> LessonSpec:
    scene = Scene(scene_id="s1", narration="Phishing is a scam.")
    return LessonSpec(
        script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Intro", scenes=[scene])]),
        publish=PublishTarget(title="Phishing") if publish else None,
    )


def video_asset() -> Asset:
    return Asset(
        kind=AssetKind.VIDEO,
        bucket="reelflow-media",
        key=f"videos/{VIDEO_ID}/{SCRIPT_ID}/{JOB_ID}/video.mp4",
        size_bytes=4096,
        content_type="video/mp4",
        sha256="0" * 64,
    )


def requested(attempt: int = 1, *, publish: bool = False) -> RenderRequested:
    return RenderRequested(
        job_id=JOB_ID, video_id=VIDEO_ID, script_id=SCRIPT_ID, attempt=attempt, spec=spec(publish=publish)
    )


def narrated(attempt: int = 1) -> RenderNarrated:
    return RenderNarrated(
        job_id=JOB_ID,
        video_id=VIDEO_ID,
        script_id=SCRIPT_ID,
        attempt=attempt,
        spec=spec(),
        narration=[SceneNarration(scene_id="s1", audio_key=f"jobs/{JOB_ID}/{attempt}/s1.wav", duration_sec=2.0)],
    )


def composed(attempt: int = 1) -> RenderComposed:
    return RenderComposed(
        job_id=JOB_ID,
        video_id=VIDEO_ID,
        script_id=SCRIPT_ID,
        attempt=attempt,
        spec=spec(),
        outputs=ComposedOutputs(video=f"jobs/{JOB_ID}/{attempt}/video.mp4", thumbnail=f"jobs/{JOB_ID}/{attempt}/t.jpg"),
        duration_sec=2.4,
    )


def stored(attempt: int = 1) -> RenderStored:
    return RenderStored(
        job_id=JOB_ID,
        video_id=VIDEO_ID,
        script_id=SCRIPT_ID,
        attempt=attempt,
        spec=spec(),
        assets=[video_asset()],
        duration_sec=2.4,
    )


def published(attempt: int = 1) -> RenderPublished:
    return RenderPublished(
        job_id=JOB_ID,
        video_id=VIDEO_ID,
        attempt=attempt,
        platform="youtube",
        external_id="abc123",
        url="https://youtu.be/abc123",
    )


def failed(attempt: int = 1, step: str | None = "COMPOSE_VIDEO") -> RenderFailed:
    error = ErrorInfo(code=ErrorCode.RENDER_FAILED, message="ffmpeg exited with code 1", step=step)
    return RenderFailed(job_id=JOB_ID, video_id=VIDEO_ID, attempt=attempt, error=error)


def progress(value: int, step: Step, attempt: int = 1, seconds: float = 1) -> ProgressUpdate:
    return ProgressUpdate(job_id=JOB_ID, attempt=attempt, step=step, progress=value, at=at(seconds))


def queued_job(attempt: int = 1, *, publish: bool = False) -> RenderJob:
    job = project_event(None, requested(attempt, publish=publish), at=T0)
    assert job is not None
    return job


def apply(job: RenderJob, *events: RenderNarrated | RenderComposed | RenderStored | RenderPublished) -> RenderJob:
    for seconds, event in enumerate(events, start=1):
        moved = project_event(job, event, at=at(seconds))
        assert moved is not None, f"{type(event).__name__} changed nothing"
        job = moved
    return job


def test_a_request_creates_a_queued_job_with_its_spec() -> None:
    job = queued_job(attempt=2)
    assert job.status == JobStatus.QUEUED
    assert (job.job_id, job.video_id, job.script_id, job.attempt) == (JOB_ID, VIDEO_ID, SCRIPT_ID, 2)
    assert job.progress == 0
    assert job.spec == spec()
    assert job.created_at == job.updated_at == T0


def test_a_replayed_request_changes_nothing() -> None:
    assert project_event(queued_job(), requested(), at=at(5)) is None


def test_a_job_moves_through_the_steps_with_progress_that_only_grows() -> None:
    job = queued_job()
    seen: list[tuple[JobStatus, Step | None, int]] = [(job.status, job.step, job.progress)]
    for seconds, event in enumerate([narrated(), composed(), stored()], start=1):
        moved = project_event(job, event, at=at(seconds))
        assert moved is not None
        job = moved
        seen.append((job.status, job.step, job.progress))

    assert seen == [
        (JobStatus.QUEUED, None, 0),
        (JobStatus.PROCESSING, Step.GENERATE_TTS, 40),
        (JobStatus.PROCESSING, Step.COMPOSE_VIDEO, 85),
        (JobStatus.PROCESSING, Step.UPLOAD_ASSETS, 95),
    ]
    assert job.assets == [video_asset()]
    assert job.duration_sec == 2.4
    assert [entry.status for entry in job.history] == [JobStatus.PROCESSING]
    assert job.updated_at == at(3)


def test_a_late_event_never_pulls_progress_back() -> None:
    job = apply(queued_job(), composed())
    again = project_event(job, narrated(), at=at(9))
    assert again is not None
    assert (again.progress, again.step, again.status) == (85, Step.COMPOSE_VIDEO, JobStatus.PROCESSING)


def test_events_of_another_attempt_are_ignored() -> None:
    job = queued_job(attempt=2)
    for event in (narrated(1), composed(1), stored(1), published(1), failed(1), narrated(3)):
        assert project_event(job, event, at=at(1)) is None
    assert project_event(job, RenderCancel(job_id=JOB_ID, attempt=1), at=at(1)) is None
    assert project_progress(job, progress(30, Step.GENERATE_TTS, attempt=1)) is None


def test_step_events_for_an_unknown_job_are_ignored() -> None:
    assert project_event(None, narrated(), at=T0) is None
    assert project_event(None, completed(), at=T0) is None
    assert project_event(None, RenderCancel(job_id=JOB_ID), at=T0) is None
    assert project_progress(None, progress(30, Step.GENERATE_TTS)) is None


def rejected_failure(video_id: str | None) -> RenderFailed:
    error = ErrorInfo(code=ErrorCode.INVALID_SCRIPT, message="message on rf.render.requested is invalid: spec: …")
    return RenderFailed(job_id=JOB_ID, video_id=video_id, attempt=1, error=error)


@pytest.mark.parametrize("video_id", [VIDEO_ID, None])
def test_a_failure_of_an_unknown_job_records_the_rejected_request(video_id: str | None) -> None:
    failure = rejected_failure(video_id)
    job = project_event(None, failure, at=at(1))
    assert job is not None
    assert (job.job_id, job.video_id, job.attempt, job.status) == (JOB_ID, video_id, 1, JobStatus.FAILED)
    assert job.spec is None and job.error == failure.error
    assert [entry.status for entry in job.history] == [JobStatus.FAILED]
    assert not is_ready_to_finalize(job)
    assert project_event(job, failure, at=at(2)) is None, "a redelivered failure changes nothing"
    with pytest.raises(IllegalTransitionError, match="no spec to render again"):
        retry_job(job, at=at(3))


def test_a_request_read_after_its_own_failure_fills_in_the_rejected_job() -> None:
    job = project_event(None, rejected_failure(None), at=at(1))
    assert job is not None
    learned = project_event(job, requested(), at=at(2))
    assert learned is not None
    assert (learned.status, learned.video_id, learned.spec) == (JobStatus.FAILED, VIDEO_ID, spec())
    assert project_event(learned, requested(), at=at(3)) is None


def test_a_failure_ends_the_job_with_the_error_and_its_step() -> None:
    job = apply(queued_job(), narrated())
    event = failed(step="COMPOSE_VIDEO")
    ended = project_event(job, event, at=at(7))
    assert ended is not None
    assert ended.status == JobStatus.FAILED
    assert ended.error == event.error
    assert ended.step == Step.COMPOSE_VIDEO
    assert ended.progress == 40
    assert ended.history[-1].status == JobStatus.FAILED
    assert ended.updated_at == at(7)


@pytest.mark.parametrize("step", [None, "not-a-step"])
def test_a_failure_without_a_known_step_keeps_the_jobs_step(step: str | None) -> None:
    job = apply(queued_job(), narrated())
    ended = project_event(job, failed(step=step), at=at(7))
    assert ended is not None
    assert ended.status == JobStatus.FAILED
    assert ended.step == Step.GENERATE_TTS


def test_a_queued_job_can_fail_before_any_step() -> None:
    ended = project_event(queued_job(), failed(step="VALIDATE_SCRIPT"), at=at(1))
    assert ended is not None
    assert ended.status == JobStatus.FAILED
    assert ended.step == Step.VALIDATE_SCRIPT


def test_a_finished_job_ignores_later_events() -> None:
    ended = project_event(apply(queued_job(), narrated()), failed(), at=at(5))
    assert ended is not None
    for event in (composed(), stored(), failed(), narrated()):
        assert project_event(ended, event, at=at(6)) is None
    assert project_progress(ended, progress(90, Step.UPLOAD_ASSETS)) is None


def test_a_cancel_ends_an_active_job() -> None:
    job = apply(queued_job(), narrated())
    canceled = project_event(job, RenderCancel(job_id=JOB_ID, attempt=1), at=at(4))
    assert canceled is not None
    assert canceled.status == JobStatus.CANCELED


def test_stored_without_a_publish_target_is_ready_to_finalize() -> None:
    job = apply(queued_job(), narrated(), composed())
    assert not is_ready_to_finalize(job)
    job = apply(job, stored())
    assert is_ready_to_finalize(job)


def test_stored_with_a_publish_target_waits_for_the_publication() -> None:
    job = apply(queued_job(publish=True), narrated(), composed(), stored())
    assert not is_ready_to_finalize(job)
    job = apply(job, published())
    assert is_ready_to_finalize(job)
    assert job.publications == [Publication(platform="youtube", external_id="abc123", url="https://youtu.be/abc123")]
    assert job.progress == 99


def test_a_replayed_publication_is_recorded_once() -> None:
    job = apply(queued_job(publish=True), narrated(), composed(), stored(), published(), published())
    assert len(job.publications) == 1


def test_a_queued_or_failed_job_is_not_ready_to_finalize() -> None:
    assert not is_ready_to_finalize(queued_job())
    ended = project_event(apply(queued_job(), narrated(), composed(), stored()), failed(), at=at(9))
    assert ended is not None
    assert not is_ready_to_finalize(ended)


def completed(attempt: int = 1) -> RenderCompleted:
    return RenderCompleted(
        job_id=JOB_ID, video_id=VIDEO_ID, script_id=SCRIPT_ID, attempt=attempt, assets=[video_asset()], duration_sec=3.0
    )


def test_a_job_ready_to_finalize_owes_its_completion_with_its_summary() -> None:
    job = apply(queued_job(), narrated(), composed(), stored())
    owed = completion_of(job)
    assert (owed.job_id, owed.video_id, owed.script_id, owed.attempt) == (JOB_ID, VIDEO_ID, SCRIPT_ID, 1)
    assert owed.assets == job.assets and owed.duration_sec == job.duration_sec
    assert owed.idempotency_key() == f"{JOB_ID}:1:reelflow.render.completed.v1"


def test_the_completed_event_from_the_stream_completes_the_job_once() -> None:
    job = apply(queued_job(), narrated(), composed(), stored())
    done = project_event(job, completed(), at=at(9))
    assert done is not None
    assert (done.status, done.step, done.progress) == (JobStatus.COMPLETED, Step.FINALIZE, 100)
    assert done.assets == [video_asset()] and done.duration_sec == 3.0
    assert [entry.status for entry in done.history][-1] == JobStatus.COMPLETED
    assert project_event(done, completed(), at=at(10)) is None, "a redelivered completion changes nothing"
    assert project_event(done, failed(), at=at(11)) is None, "nor does a late failure"


def test_a_completion_of_another_attempt_or_of_a_canceled_job_is_ignored() -> None:
    job = apply(queued_job(attempt=2), narrated(2), composed(2), stored(2))
    assert project_event(job, completed(attempt=1), at=at(9)) is None
    canceled = project_event(job, RenderCancel(job_id=JOB_ID, attempt=2), at=at(9))
    assert canceled is not None and canceled.status == JobStatus.CANCELED
    assert project_event(canceled, completed(attempt=2), at=at(10)) is None


def test_finalize_completes_the_job_at_full_progress() -> None:
    job = apply(queued_job(), narrated(), composed(), stored())
    done = finalize(job, at=at(10))
    assert (done.status, done.progress, done.step) == (JobStatus.COMPLETED, 100, Step.FINALIZE)
    assert done.history[-1].status == JobStatus.COMPLETED
    assert done.history[-1].step == Step.FINALIZE
    assert done.updated_at == at(10)
    assert done.assets == job.assets


def test_finalize_refuses_a_job_that_never_started() -> None:
    with pytest.raises(IllegalTransitionError):
        finalize(queued_job(), at=at(1))


def test_progress_updates_move_the_bar_forward_only() -> None:
    job = queued_job()
    values: list[int] = []
    for update in (
        progress(20, Step.GENERATE_TTS, seconds=1),
        progress(35, Step.GENERATE_TTS, seconds=2),
        progress(30, Step.GENERATE_TTS, seconds=3),
        progress(35, Step.GENERATE_TTS, seconds=4),
        progress(47, Step.GENERATE_SUBTITLE, seconds=5),
    ):
        moved = project_progress(job, update)
        assert moved is not None
        job = moved
        values.append(job.progress)
    assert values == [20, 35, 35, 35, 47]
    assert job.status == JobStatus.PROCESSING
    assert job.step == Step.GENERATE_SUBTITLE
    assert job.updated_at == at(5)


def test_a_step_event_after_progress_never_pulls_the_bar_back() -> None:
    job = project_progress(queued_job(), progress(55, Step.RENDER_SLIDES))
    assert job is not None
    after = project_event(job, narrated(), at=at(2))
    assert after is not None
    assert (after.progress, after.step) == (55, Step.RENDER_SLIDES)
