"""Render job routes: start (idempotent while active), read, list, cancel, retry, and live progress (SSE)."""

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import StreamingResponse

from reelflow.contracts._base import Contract
from reelflow.gateway.accounts import Scope
from reelflow.gateway.api.deps import AccessDep, JobsDep, Reader, Renderer, StateDep
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.api.links import JOB_CREATED_LINKS, JOB_LINKS
from reelflow.gateway.job_views import RenderJobView
from reelflow.gateway.progress_stream import job_progress_events, sse_frame
from reelflow.gateway.render_specs import RenderOptions
from reelflow.gateway.video_ids import VIDEO_ID_PATTERN

router = APIRouter(prefix="/api", tags=["render-jobs"])

VideoIdPath = Annotated[str, Path(pattern=VIDEO_ID_PATTERN, description="The video the job renders.")]
NO_JOB = {404: "No render job with this id."}


class RenderJobCreated(Contract):
    job: RenderJobView
    created: bool


@router.post(
    "/videos/{video_id}/render-jobs",
    operation_id="startRenderJob",
    response_model=RenderJobCreated,
    status_code=201,
    summary="Start a render job from an approved script",
    description="The job freezes the script's latest version (recorded as `script_version`) into its spec; later "
    "edits of the script do not change it. While the video has an active job, that job is returned with 200 and "
    "`created: false`. Every option is checked now: the size and fps, the voice (espeak-ng must have it), the "
    "music (an upload that exists) and `publish` (where YouTube is set up). The job is recorded before it is answered, "
    "so a 201 takes effect even while NATS is down.",
    responses={
        201: {"description": "The job is recorded (QUEUED) and on its way.", "links": JOB_CREATED_LINKS},
        200: {
            "model": RenderJobCreated,
            "description": "The video's active job, returned instead of a new one.",
            "links": JOB_CREATED_LINKS,
        },
        **error_responses(
            {
                404: "No script with this id.",
                409: "The script is not APPROVED (approve it with POST /api/scripts/{script_id}/approve), is "
                "archived, belongs to another video, or is still being written.",
                422: "An option cannot render (`details.problems` names each field): the body's types, the voice, "
                "the music's media_key, or `publish`.",
            }
        ),
    },
)
async def start_render_job(
    video_id: VideoIdPath,
    options: RenderOptions,
    caller: Renderer,
    access: AccessDep,
    jobs: JobsDep,
    response: Response,
) -> RenderJobCreated:
    if options.publish is not None:
        caller.require(Scope.PUBLISH)
    await access.video(caller, video_id)
    await access.script(caller, options.script_id)
    await access.lesson_music(caller, options.music)
    started = await jobs.start_lesson(video_id, options)
    response.status_code = 201 if started.created else 200
    return RenderJobCreated(job=started.job, created=started.created)


@router.get(
    "/render-jobs/{job_id}",
    operation_id="getRenderJob",
    response_model=RenderJobView,
    summary="Read a render job",
    description="A job the bus rejected before it could be read (an invalid `rf.render.requested` published "
    "straight to NATS) is FAILED with a null `spec` and the reason in `error`.",
    responses={200: {"description": "The job.", "links": JOB_LINKS}, **error_responses(NO_JOB)},
)
async def get_render_job(job_id: str, caller: Reader, access: AccessDep, jobs: JobsDep) -> RenderJobView:
    await access.job(caller, job_id)
    return await jobs.job(job_id)


@router.get(
    "/videos/{video_id}/render-jobs",
    operation_id="listRenderJobs",
    response_model=list[RenderJobView],
    summary="List a video's render jobs, newest first",
    responses=error_responses({404: "No such video in this workspace (or it was deleted)."}),
)
async def list_render_jobs(
    video_id: VideoIdPath, caller: Reader, access: AccessDep, jobs: JobsDep
) -> list[RenderJobView]:
    await access.video(caller, video_id)
    return await jobs.jobs_of_video(video_id)


@router.post(
    "/render-jobs/{job_id}/cancel",
    operation_id="cancelRenderJob",
    response_model=RenderJobView,
    status_code=202,
    summary="Cancel a render job",
    description="Asks for the running attempt to be canceled: its running FFmpeg or espeak-ng is stopped and the "
    "job becomes CANCELED once the cancel has won its attempt. Answers 200 with the CANCELED job when that "
    "happened within about 2 s, else 202 with the job as it stands (the cancel is recorded and goes out even "
    "while NATS is down).",
    responses={
        202: {"description": "The cancel is recorded and on its way; the job as it stands.", "links": JOB_LINKS},
        200: {"model": RenderJobView, "description": "The job is CANCELED.", "links": JOB_LINKS},
        **error_responses(
            NO_JOB | {409: "The job had already ended, or it completed or failed before the cancel took effect."}
        ),
    },
)
async def cancel_render_job(
    job_id: str, caller: Renderer, access: AccessDep, jobs: JobsDep, response: Response
) -> RenderJobView:
    await access.job(caller, job_id)
    outcome = await jobs.cancel(job_id)
    response.status_code = 200 if outcome.done else 202
    return outcome.job


@router.post(
    "/render-jobs/{job_id}/retry",
    operation_id="retryRenderJob",
    response_model=RenderJobView,
    summary="Retry a failed or canceled render job with the same spec",
    description="The job becomes QUEUED again as `attempt + 1`, rendering the spec it froze. A request the bus "
    "rejected (null `spec`) cannot be retried.",
    responses=error_responses(
        NO_JOB | {409: "The job is active or COMPLETED, was a rejected request, or the video has another active job."}
    ),
)
async def retry_render_job(job_id: str, caller: Renderer, access: AccessDep, jobs: JobsDep) -> RenderJobView:
    await access.job(caller, job_id)
    return await jobs.retry(job_id)


@router.get(
    "/render-jobs/{job_id}/events",
    operation_id="followRenderJob",
    response_class=StreamingResponse,
    summary="Follow a render job's progress (server-sent events)",
    description="A `progress` event per update (never decreasing), then one `status` event when the job ends.",
    responses={200: {"content": {"text/event-stream": {}}}, **error_responses(NO_JOB)},
)
async def render_job_events(
    job_id: str, caller: Reader, access: AccessDep, jobs: JobsDep, state: StateDep
) -> StreamingResponse:
    await access.job(caller, job_id)
    await jobs.require_job(job_id)
    events = job_progress_events(
        job_id,
        read_job=jobs.find_job,
        hub=state.hub,
        poll_sec=state.settings.sse_poll_sec,
        keepalive_sec=state.settings.sse_keepalive_sec,
    )
    return StreamingResponse(
        (sse_frame(event) async for event in events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
