"""The Spring backend's compatibility routes (``X-Internal-Token`` only): start a job from the backend's render
spec, and retry it from the snapshot."""

from typing import Annotated

from fastapi import Path, Query, Response
from fastapi.routing import APIRouter

from reelflow.gateway.api.deps import BackendCaller, BackendJobsDep, WebhooksDep
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.api.links import JOB_CREATED_LINKS, JOB_LINKS
from reelflow.gateway.api.routes.render_jobs import RenderJobCreated
from reelflow.gateway.backend_jobs import StartBackendJob
from reelflow.gateway.job_views import RenderJobView
from reelflow.gateway.video_ids import VIDEO_ID_PATTERN, VIDEO_ID_RULE
from reelflow.gateway.webhook_schedule import DeliveryState
from reelflow.gateway.webhook_subscriptions import BackendCallbackView

router = APIRouter(prefix="/video", tags=["backend"])

JobIdPath = Annotated[str, Path(pattern=VIDEO_ID_PATTERN, description=f"The backend's job id: {VIDEO_ID_RULE}.")]
BACKEND_AUTH = {
    401: "No `X-Internal-Token`, or not the gateway's (`UNAUTHENTICATED`).",
    403: "An API key or a person's session: these routes take the backend's `X-Internal-Token` only.",
}
CALLBACK = (
    "When the job ends (COMPLETED, FAILED or CANCELED), each attempt is called back once with `POST "
    "{BACKEND_BASE_URL}/video/job/{job_id}/complete` `{jobId, videoUrl, duration, status}` (`Authorization: Bearer "
    "BACKEND_API_TOKEN`, retried on the webhook schedule). `videoUrl` is the gateway's GET "
    "/api/assets/{job_id}/video under REELFLOW_PUBLIC_BASE_URL; the backend downloads it with its "
    "`X-Internal-Token`."
)


@router.post(
    "/job/{job_id}/start",
    operation_id="startBackendJob",
    response_model=RenderJobCreated,
    status_code=201,
    summary="Start the backend's job from the render spec of its script",
    description="Fetches `GET {BACKEND_BASE_URL}/internal/scripts/{script_id}/render-spec` (`Authorization: Bearer "
    "BACKEND_API_TOKEN`, within BACKEND_TIMEOUT_SEC): a RenderSpec, or `{spec, script_version}`. The spec is checked "
    "like any render request, snapshotted into the job (retries render the snapshot) and the job is started under "
    "the backend's `job_id`. Starting a job id that exists returns that job (200, `created: false`) without asking "
    "the backend again. " + CALLBACK,
    responses={
        201: {"description": "The job is recorded (QUEUED) and on its way.", "links": JOB_CREATED_LINKS},
        200: {
            "model": RenderJobCreated,
            "description": "The job already existed under this id; returned as it is.",
            "links": JOB_CREATED_LINKS,
        },
        **error_responses(
            BACKEND_AUTH
            | {
                404: "The backend has no such script (its render-spec answered 404).",
                409: "The job id was started for another script, or the video has another active job.",
                422: "The body is invalid, or the backend's spec is not a valid RenderSpec or cannot render "
                "(`details.problems` names each field under `spec.`).",
                502: "The backend answered its render spec with an error status or no JSON (`BACKEND_FAILED`).",
                503: "The backend cannot be reached or BACKEND_BASE_URL is not set (`BACKEND_UNAVAILABLE`); or "
                "MongoDB, S3 or NATS is down (`UNAVAILABLE`). Nothing was started.",
                504: "The backend did not answer within BACKEND_TIMEOUT_SEC (`BACKEND_TIMEOUT`); nothing was started.",
            }
        ),
    },
)
async def start_backend_job(
    job_id: JobIdPath, body: StartBackendJob, caller: BackendCaller, backend: BackendJobsDep, response: Response
) -> RenderJobCreated:
    started = await backend.start(caller, job_id, body)
    response.status_code = 201 if started.created else 200
    return RenderJobCreated(job=started.job, created=started.created)


@router.post(
    "/job/{job_id}/retry",
    operation_id="retryBackendJob",
    response_model=RenderJobView,
    summary="Retry the backend's failed or canceled job from its snapshot",
    description="The job becomes QUEUED again as `attempt + 1`, rendering the spec it snapshotted when it was "
    "started; the backend is not asked for the spec again. " + CALLBACK,
    responses={
        200: {"description": "The job, QUEUED as its next attempt.", "links": JOB_LINKS},
        **error_responses(
            BACKEND_AUTH
            | {
                404: "No such job.",
                409: "The job is active or COMPLETED, or the video has another active job.",
            }
        ),
    },
)
async def retry_backend_job(job_id: JobIdPath, caller: BackendCaller, backend: BackendJobsDep) -> RenderJobView:
    return await backend.retry(caller, job_id)


@router.get(
    "/callbacks",
    operation_id="listBackendCallbacks",
    response_model=list[BackendCallbackView],
    summary="The log of the gateway's callbacks to the backend, newest first: every attempt, and when the next is due",
    description="Job-complete and script-complete callbacks, each with its attempts (status code or error, and "
    "time), its state (pending while another attempt is due, delivered, or failed once the webhook schedule is "
    "spent) and its `Idempotency-Key`. Filter by `job_id` and `state`. Kept as long as webhook deliveries "
    "(REELFLOW_WEBHOOK_LOG_RETENTION_DAYS).",
    responses=error_responses(BACKEND_AUTH),
)
async def list_backend_callbacks(
    caller: BackendCaller,
    webhooks: WebhooksDep,
    job_id: Annotated[str | None, Query(pattern=VIDEO_ID_PATTERN, description="Only this job's callbacks.")] = None,
    state: Annotated[DeliveryState | None, Query(description="Only callbacks in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, newest first.")] = 50,
) -> list[BackendCallbackView]:
    return await webhooks.backend_callbacks(caller, job_id=job_id, state=state, limit=limit)
