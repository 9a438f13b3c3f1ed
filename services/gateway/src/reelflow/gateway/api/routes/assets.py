"""Asset downloads: a redirect to a short-lived presigned URL of the stored file."""

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from reelflow.contracts import AssetKind
from reelflow.gateway.api.deps import AccessDep, JobsDep, Reader, StateDep
from reelflow.gateway.api.errors import error_responses

router = APIRouter(prefix="/api", tags=["assets"])


@router.get(
    "/assets/{job_id}/{kind}",
    operation_id="downloadAsset",
    response_class=RedirectResponse,
    status_code=302,
    summary="Download a job's asset",
    description="A 302 redirect to a presigned URL of the stored file, valid for REELFLOW_PRESIGNED_URL_TTL_SEC.",
    responses={
        302: {"description": "Redirect to the file."},
        **error_responses({404: "No such job, or no such asset yet."}),
    },
)
async def download_asset(
    job_id: str, kind: AssetKind, caller: Reader, access: AccessDep, jobs: JobsDep, state: StateDep
) -> RedirectResponse:
    await access.job(caller, job_id)
    asset = await jobs.asset(job_id, kind)
    url = state.runtime.blobs.presigned_get_url(
        asset.bucket, asset.key, timedelta(seconds=state.settings.presigned_url_ttl_sec)
    )
    return RedirectResponse(url, status_code=302)
