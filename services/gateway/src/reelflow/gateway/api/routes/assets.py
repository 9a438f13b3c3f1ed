"""Asset downloads: the stored file streamed through the gateway with Range support, or a redirect to a presigned
URL on the public S3 endpoint when one is configured (REELFLOW_PUBLIC_S3_URL)."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import RedirectResponse

from reelflow.contracts import AssetKind
from reelflow.gateway.api.deps import AccessDep, GatewayState, JobsDep, Reader, StateDep
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.api.streamed_blob import StreamedBlobResponse
from reelflow.gateway.asset_delivery import (
    FORMAT_BY_KIND,
    AssetRequest,
    open_delivery,
    plan_delivery,
    presigned_response_headers,
)
from reelflow.gateway.render_job_commands import RenderJobCommands

router = APIRouter(prefix="/api", tags=["assets"])

RangeHeader = Annotated[
    str | None,
    Header(
        alias="Range",
        description="One byte range: `bytes=a-b`, `bytes=a-` or the last n bytes `bytes=-n` (206). Another unit or "
        "several ranges get the whole file (200).",
    ),
]
IfRangeHeader = Annotated[
    str | None,
    Header(alias="If-Range", description="The ETag of the copy being resumed: the range applies only if it matches."),
]
IfNoneMatchHeader = Annotated[
    str | None,
    Header(alias="If-None-Match", description="The ETag of the copy the client has: 304 while it is current."),
]
DownloadQuery = Annotated[
    bool, Query(description="Save the file (`Content-Disposition: attachment; filename=<job_id>.<ext>`).")
]
MEDIA_TYPES = {
    fmt.media_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for fmt in FORMAT_BY_KIND.values()
}
DELIVERY_HEADERS = {
    name: {"description": text, "schema": {"type": "string"}}
    for name, text in {
        "Accept-Ranges": "`bytes`.",
        "Content-Length": "The bytes in this answer.",
        "Content-Disposition": "`inline` (video, thumbnail, subtitles_vtt) or `attachment`, `filename=<job_id>.<ext>`.",
        "ETag": "The file's sha256, quoted.",
    }.items()
}
ASSET_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The whole file.", "content": MEDIA_TYPES, "headers": DELIVERY_HEADERS},
    206: {
        "description": "The range asked for; `Content-Range: bytes a-b/size`.",
        "content": MEDIA_TYPES,
        "headers": DELIVERY_HEADERS | {"Content-Range": {"schema": {"type": "string"}}},
    },
    302: {"description": "Only with REELFLOW_PUBLIC_S3_URL set: a presigned URL of the file on that endpoint."},
    304: {"description": "The copy the client has (If-None-Match) is current; no body."},
    **error_responses(
        {
            404: "No such job, or no such asset yet.",
            416: "The range starts past the end of the file (`RANGE_NOT_SATISFIABLE`); `Content-Range: bytes */size`.",
        }
    ),
}
DESCRIPTION = (
    "The file streamed by the gateway, so a `<video>` element can play and seek it wherever the client is. "
    "Content-Type by kind (video/mp4, image/jpeg, text/vtt, application/x-subrip, text/plain). With "
    "REELFLOW_PUBLIC_S3_URL set, a 302 to a presigned URL of the file on that endpoint instead, valid for "
    "REELFLOW_PRESIGNED_URL_TTL_SEC."
)


async def _asset_answer(
    job_id: str,
    kind: AssetKind,
    jobs: RenderJobCommands,
    state: GatewayState,
    request: AssetRequest,
    *,
    with_body: bool,
) -> Response:
    asset = await jobs.asset(job_id, kind)
    if state.public_links is not None:
        url = state.public_links.presigned_get_url(
            asset.bucket,
            asset.key,
            timedelta(seconds=state.settings.presigned_url_ttl_sec),
            response_headers=presigned_response_headers(job_id, kind, download=request.download),
        )
        return RedirectResponse(url, status_code=302)
    delivery = plan_delivery(asset, job_id, request)
    stream = None
    if with_body:
        timeout = state.settings.asset_read_timeout_sec
        stream = await open_delivery(state.runtime.blobs, asset, delivery, read_timeout_sec=timeout)
    return StreamedBlobResponse(stream, status_code=delivery.status, headers=delivery.headers)


@router.get(
    "/assets/{job_id}/{kind}",
    operation_id="downloadAsset",
    response_class=Response,
    summary="Download a job's asset",
    description=DESCRIPTION,
    responses=ASSET_RESPONSES,
)
async def download_asset(
    job_id: str,
    kind: AssetKind,
    caller: Reader,
    access: AccessDep,
    jobs: JobsDep,
    state: StateDep,
    range_header: RangeHeader = None,
    if_range: IfRangeHeader = None,
    if_none_match: IfNoneMatchHeader = None,
    download: DownloadQuery = False,
) -> Response:
    await access.job(caller, job_id)
    request = AssetRequest(range_header, if_range, if_none_match, download)
    return await _asset_answer(job_id, kind, jobs, state, request, with_body=True)


@router.head(
    "/assets/{job_id}/{kind}",
    operation_id="describeAsset",
    response_class=Response,
    summary="The headers a download of a job's asset would get",
    description="What GET answers, without the body: the size, type, ETag and, for a Range, the part.",
    responses=ASSET_RESPONSES,
)
async def describe_asset(
    job_id: str,
    kind: AssetKind,
    caller: Reader,
    access: AccessDep,
    jobs: JobsDep,
    state: StateDep,
    range_header: RangeHeader = None,
    if_range: IfRangeHeader = None,
    if_none_match: IfNoneMatchHeader = None,
    download: DownloadQuery = False,
) -> Response:
    await access.job(caller, job_id)
    request = AssetRequest(range_header, if_range, if_none_match, download)
    return await _asset_answer(job_id, kind, jobs, state, request, with_body=False)
