"""Ranking shorts: start a render job from uploaded clips (progress, cancel, retry and assets are the job routes')."""

from fastapi import APIRouter, Response

from reelflow.gateway.accounts import Scope
from reelflow.gateway.api.deps import AccessDep, JobsDep, Renderer
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.api.links import JOB_CREATED_LINKS
from reelflow.gateway.api.routes.render_jobs import RenderJobCreated
from reelflow.gateway.ownership import VideoKind
from reelflow.gateway.render_specs import RankingOptions

router = APIRouter(prefix="/api", tags=["ranking-jobs"])


@router.post(
    "/ranking-jobs",
    operation_id="startRankingJob",
    response_model=RenderJobCreated,
    status_code=201,
    summary="Start a ranking short from uploaded clips",
    description="Each clip names the `media_key` that `POST /api/uploads` returned, its rank and label. The short "
    "counts down to rank 1, each clip cropped to the frame (1080x1920 by default), trimmed to `start`/`end`, "
    "badged and joined with transitions. While the video has an active job, that job is returned with 200 and "
    "`created: false`. Follow the job with the render-job routes (`GET /api/render-jobs/{job_id}`, its `events`, "
    "`cancel`, `retry`) and download it with `GET /api/assets/{job_id}/video`.",
    responses={
        201: {"description": "The job is recorded (QUEUED) and on its way.", "links": JOB_CREATED_LINKS},
        200: {
            "model": RenderJobCreated,
            "description": "The video's active job, returned instead of a new one.",
            "links": JOB_CREATED_LINKS,
        },
        **error_responses(
            {
                422: "The body is invalid (`details.problems` names each field), or a clip or the music names media "
                "that is not uploaded, or a clip names an audio upload (all of them are listed at once), or "
                "`publish` is set (only where YouTube publishing is configured).",
            }
        ),
    },
)
async def start_ranking_job(
    options: RankingOptions, caller: Renderer, access: AccessDep, jobs: JobsDep, response: Response
) -> RenderJobCreated:
    if options.publish is not None:
        caller.require(Scope.PUBLISH)
    await access.ranking_media(caller, options)
    async with access.video_for(caller, options.video_id, VideoKind.RANKING, options.title):
        started = await jobs.start_ranking(options)
    response.status_code = 201 if started.created else 200
    return RenderJobCreated(job=started.job, created=started.created)
