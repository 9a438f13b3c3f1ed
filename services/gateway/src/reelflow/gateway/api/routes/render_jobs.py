"""Render job routes: start (idempotent while active), read, list, cancel, retry, and live progress (SSE)."""

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from reelflow.contracts._base import Contract
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.api.deps import LedgerDep, StateDep
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.job_media import require_lesson_music
from reelflow.gateway.job_views import RenderJobView
from reelflow.gateway.progress_stream import job_progress_events
from reelflow.gateway.refusals import LedgerError
from reelflow.gateway.render_specs import RenderOptions

router = APIRouter(prefix="/api", tags=["render-jobs"])


NO_JOB = {404: "No render job with this id."}


class RenderJobCreated(Contract):
    job: RenderJobView
    created: bool


@router.post(
    "/videos/{video_id}/render-jobs",
    response_model=RenderJobCreated,
    status_code=201,
    summary="Start a render job from an approved script",
    description="The job freezes the script's latest version (recorded as `script_version`) into its spec; later "
    "edits of the script do not change it. While the video has an active job, that job is returned with 200 and "
    "`created: false`.",
    responses={
        200: {"model": RenderJobCreated, "description": "The video's active job, returned instead of a new one."},
        **error_responses(
            {
                404: "No script with this id.",
                409: "The script is not APPROVED (approve it with POST /api/scripts/{script_id}/approve), is "
                "archived, or belongs to another video.",
            }
        ),
    },
)
async def start_render_job(
    video_id: str, options: RenderOptions, state: StateDep, response: Response
) -> RenderJobCreated:
    ledger = state.ledger
    script = await ledger.require_script(options.script_id)
    if script.video_id != video_id:
        raise LedgerError(
            f"script {options.script_id} belongs to video {script.video_id}, not {video_id}",
            api_code=ApiErrorCode.CONFLICT,
            status=409,
        )
    await require_lesson_music(state.runtime.blobs, state.settings.media_bucket, options.music)
    job, created = await ledger.start_render(script, options)
    response.status_code = 201 if created else 200
    return RenderJobCreated(job=job, created=created)


@router.get(
    "/render-jobs/{job_id}",
    response_model=RenderJobView,
    summary="Read a render job",
    responses=error_responses(NO_JOB),
)
async def get_render_job(job_id: str, ledger: LedgerDep) -> RenderJobView:
    return await ledger.require_job_view(job_id)


@router.get(
    "/videos/{video_id}/render-jobs",
    response_model=list[RenderJobView],
    summary="List a video's render jobs, newest first",
)
async def list_render_jobs(video_id: str, ledger: LedgerDep) -> list[RenderJobView]:
    return await ledger.store.jobs_of_video(video_id)


@router.post(
    "/render-jobs/{job_id}/cancel",
    response_model=RenderJobView,
    summary="Cancel a render job",
    responses=error_responses(NO_JOB | {409: "The job has already finished."}),
)
async def cancel_render_job(job_id: str, ledger: LedgerDep) -> RenderJobView:
    return await ledger.cancel(job_id)


@router.post(
    "/render-jobs/{job_id}/retry",
    response_model=RenderJobView,
    summary="Retry a failed or canceled render job with the same spec",
    responses=error_responses(NO_JOB | {409: "The job cannot be retried, or the video has another active job."}),
)
async def retry_render_job(job_id: str, ledger: LedgerDep) -> RenderJobView:
    return await ledger.retry(job_id)


@router.get("/render-jobs/{job_id}/events", response_class=StreamingResponse)
async def render_job_events(job_id: str, state: StateDep) -> StreamingResponse:
    await state.ledger.require_job(job_id)
    events = job_progress_events(
        job_id,
        store=state.store,
        hub=state.hub,
        poll_sec=state.settings.sse_poll_sec,
        keepalive_sec=state.settings.sse_keepalive_sec,
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
