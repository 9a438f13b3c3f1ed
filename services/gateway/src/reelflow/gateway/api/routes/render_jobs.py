"""Render job routes: start (idempotent while active), read, list, cancel, retry, and live progress (SSE)."""

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from reelflow.contracts import RenderJob
from reelflow.contracts._base import Contract
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.api.deps import LedgerDep, StateDep
from reelflow.gateway.ledger import LedgerError
from reelflow.gateway.progress_stream import job_progress_events
from reelflow.gateway.render_specs import RenderOptions

router = APIRouter(prefix="/api", tags=["render-jobs"])


class RenderJobCreated(Contract):
    job: RenderJob
    created: bool


@router.post("/videos/{video_id}/render-jobs", response_model=RenderJobCreated)
async def start_render_job(
    video_id: str, options: RenderOptions, ledger: LedgerDep, response: Response
) -> RenderJobCreated:
    script = await ledger.require_script(options.script_id)
    if script.video_id != video_id:
        raise LedgerError(
            f"script {options.script_id} belongs to video {script.video_id}, not {video_id}",
            api_code=ApiErrorCode.CONFLICT,
            status=409,
        )
    job, created = await ledger.start_render(script, options)
    response.status_code = 201 if created else 200
    return RenderJobCreated(job=job, created=created)


@router.get("/render-jobs/{job_id}", response_model=RenderJob)
async def get_render_job(job_id: str, ledger: LedgerDep) -> RenderJob:
    return await ledger.require_job(job_id)


@router.get("/videos/{video_id}/render-jobs", response_model=list[RenderJob])
async def list_render_jobs(video_id: str, ledger: LedgerDep) -> list[RenderJob]:
    return await ledger.store.jobs_of_video(video_id)


@router.post("/render-jobs/{job_id}/cancel", response_model=RenderJob)
async def cancel_render_job(job_id: str, ledger: LedgerDep) -> RenderJob:
    return await ledger.cancel(job_id)


@router.post("/render-jobs/{job_id}/retry", response_model=RenderJob)
async def retry_render_job(job_id: str, ledger: LedgerDep) -> RenderJob:
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
