"""Asset downloads: a redirect to a short-lived presigned URL of the stored file."""

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from reelflow.contracts import AssetKind
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.api.deps import StateDep
from reelflow.gateway.refusals import LedgerError

router = APIRouter(prefix="/api", tags=["assets"])


@router.get("/assets/{job_id}/{kind}", response_class=RedirectResponse, status_code=302)
async def download_asset(job_id: str, kind: AssetKind, state: StateDep) -> RedirectResponse:
    job = await state.ledger.require_job(job_id)
    asset = next((asset for asset in job.assets if asset.kind == kind), None)
    if asset is None:
        raise LedgerError(
            f"render job {job_id} has no {kind.value} asset (status {job.status})",
            api_code=ApiErrorCode.NOT_FOUND,
            status=404,
        )
    url = state.runtime.blobs.presigned_get_url(
        asset.bucket, asset.key, timedelta(seconds=state.settings.presigned_url_ttl_sec)
    )
    return RedirectResponse(url, status_code=302)
