"""Uploads of ranking clips and music: streamed in, size-limited, checked with ffprobe, stored once by content."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from reelflow.gateway.api.deps import AccessDep, StateDep, Uploader
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.upload_intake import UploadIntake
from reelflow.gateway.uploads import ACCEPTED_EXTENSIONS, UPLOAD_FIELD, UploadedMedia

router = APIRouter(prefix="/api", tags=["uploads"])


def upload_intake(state: StateDep) -> UploadIntake:
    settings = state.settings
    return UploadIntake(
        blobs=state.runtime.blobs,
        bucket=settings.media_bucket,
        max_bytes=settings.upload_max_bytes,
        probe_timeout_sec=settings.upload_probe_timeout_sec,
        scratch_dir=Path(settings.upload_scratch_dir) if settings.upload_scratch_dir else None,
    )


UploadIntakeDep = Annotated[UploadIntake, Depends(upload_intake)]

# The body is parsed as it streams (see reelflow.gateway.multipart_stream), not by FastAPI, so it is described here.
MULTIPART_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [UPLOAD_FIELD],
                    "properties": {UPLOAD_FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/uploads",
    operation_id="uploadMedia",
    response_model=UploadedMedia,
    status_code=201,
    summary="Upload a clip or a music track for ranking shorts",
    description=f"Send the file as multipart/form-data in the field `{UPLOAD_FIELD}` "
    f"({', '.join(ACCEPTED_EXTENSIONS)}). A clip needs a video stream, music an audio stream, and either must "
    "last more than 0 s. It is stored under `uploads/{sha256}.{ext}`: the same file uploaded again answers 200 "
    "with the same `media_key` and `created: false`, and is not stored twice.",
    openapi_extra=MULTIPART_BODY,
    responses={
        200: {"model": UploadedMedia, "description": "The same file was uploaded before; nothing new was stored."},
        **error_responses(
            {
                413: "The file is larger than REELFLOW_UPLOAD_MAX_BYTES.",
                415: "The body is not multipart/form-data.",
                422: "No file in the field `file`, or the file is not a usable clip or music (MEDIA_INVALID says "
                "what is wrong with it).",
                504: "ffprobe did not finish checking the file in time.",
            }
        ),
    },
)
async def upload_media(
    request: Request, caller: Uploader, access: AccessDep, intake: UploadIntakeDep, response: Response
) -> UploadedMedia:
    uploaded = await intake.accept(request.headers, request.stream())
    await access.registry.grant_upload(caller.workspace_id, uploaded.media_key)
    response.status_code = 201 if uploaded.created else 200
    return uploaded
