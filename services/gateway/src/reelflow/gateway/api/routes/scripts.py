"""Script routes: ask for a script, read it and its versions, edit it (a new version), approve it."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from reelflow.contracts import RenderDefaults, Script, ScriptOptions, ScriptRequested
from reelflow.contracts._base import Contract
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.api.deps import LedgerDep
from reelflow.gateway.api.errors import error_body, error_responses
from reelflow.gateway.refusals import LedgerError
from reelflow.gateway.script_versions import (
    ScriptApproval,
    ScriptEdit,
    ScriptHistory,
    expected_version,
    version_etag,
)
from reelflow.gateway.store import ScriptRequestState

router = APIRouter(prefix="/api", tags=["scripts"])

IfMatch = Annotated[
    str | None,
    Header(
        description='The version being acted on, as the ETag GET returned (`"2"`). A stale one answers 409.',
    ),
]
NOT_FOUND = {404: "No script with this id."}
STILL_WRITING = {409: "The script is still being written (NOT_READY); ask again once GET answers 200."}


class GenerateScript(Contract):
    source_text: str = Field(default="", description="The lesson, Markdown or plain text.", max_length=100_000)
    title: str = ""
    options: ScriptOptions = Field(default_factory=ScriptOptions)
    auto_render: bool = Field(
        default=False,
        description="Approve the written script at once and start its render job, skipping the review.",
    )
    render_defaults: RenderDefaults | None = None


class ScriptAccepted(Contract):
    script_id: str
    status: str


@router.post(
    "/videos/{video_id}/scripts/generate",
    status_code=202,
    response_model=ScriptAccepted,
    summary="Ask for a script to be written from a lesson",
    description="The script is written in the background as version 1, a DRAFT (APPROVED, with its render job "
    "started, when `auto_render` is set). Poll `GET /api/scripts/{script_id}` until it answers 200.",
)
async def generate_script(video_id: str, body: GenerateScript, ledger: LedgerDep) -> ScriptAccepted:
    request = ScriptRequested(video_id=video_id, script_id=uuid.uuid4().hex, **body.model_dump())
    await ledger.request_script(request)
    return ScriptAccepted(script_id=request.script_id, status=ScriptRequestState.PENDING)


@router.get(
    "/scripts/{script_id}",
    response_model=Script,
    summary="Read a script (its latest version)",
    description="The `ETag` header carries the version, for `If-Match` on a later edit or approval.",
    responses={
        202: {"model": ScriptAccepted, "description": "Still being written; ask again shortly."},
        **error_responses(NOT_FOUND | {422: "Writing the script failed; the error says why."}),
    },
)
async def get_script(script_id: str, ledger: LedgerDep, response: Response) -> Any:
    script = await ledger.store.get_script(script_id)
    if script is not None:
        response.headers["ETag"] = version_etag(script.version)
        return script
    request = await ledger.store.script_request(script_id)
    if request is None:
        raise LedgerError(f"script {script_id} does not exist", api_code=ApiErrorCode.NOT_FOUND, status=404)
    state, error = request
    if state == ScriptRequestState.FAILED and error is not None:
        return JSONResponse(error_body(error.code, error.message, error.details), status_code=422)
    return JSONResponse({"script_id": script_id, "status": state}, status_code=202)


@router.put(
    "/scripts/{script_id}",
    response_model=Script,
    summary="Edit a script's chapters and scenes, making its next version",
    description="The edit becomes version + 1, a DRAFT that must be approved again before it renders. Earlier "
    "versions stay readable; render jobs already started keep the spec they froze. Name the version you edited "
    "(`version` in the body or `If-Match`) to be told, instead of overwriting, when someone changed it first. "
    "An edit that changes nothing makes no new version.",
    responses=error_responses(
        NOT_FOUND
        | {
            409: "The edited version is not the latest (`details.current_version` says which is), the script is "
            "archived, or it is still being written.",
            422: "The body is not a valid script; `details.problems` names each field.",
        }
    ),
)
async def edit_script(
    script_id: str, edit: ScriptEdit, ledger: LedgerDep, response: Response, if_match: IfMatch = None
) -> Script:
    script = await ledger.edit_script(script_id, edit, expected_version=expected_version(edit.version, if_match))
    response.headers["ETag"] = version_etag(script.version)
    return script


@router.post(
    "/scripts/{script_id}/approve",
    response_model=Script,
    summary="Approve a script's latest version for rendering",
    description="Only the latest version can be approved. Naming the version you reviewed (`version` in the body "
    "or `If-Match`) makes sure that is the one approved. Approving twice is harmless.",
    responses=error_responses(
        NOT_FOUND
        | {
            409: "The named version is not the latest (`details.current_version` says which is), the script is "
            "archived, or it is still being written."
        }
    ),
)
async def approve_script(
    script_id: str,
    ledger: LedgerDep,
    response: Response,
    approval: Annotated[ScriptApproval | None, Body()] = None,
    if_match: IfMatch = None,
) -> Script:
    body_version = approval.version if approval is not None else None
    script = await ledger.approve_script(script_id, expected_version=expected_version(body_version, if_match))
    response.headers["ETag"] = version_etag(script.version)
    return script


@router.get(
    "/scripts/{script_id}/versions",
    response_model=ScriptHistory,
    summary="List a script's versions, newest first",
    responses=error_responses(NOT_FOUND | STILL_WRITING),
)
async def list_script_versions(script_id: str, ledger: LedgerDep) -> ScriptHistory:
    return await ledger.script_history(script_id)


@router.get(
    "/scripts/{script_id}/versions/{version}",
    response_model=Script,
    summary="Read one version of a script",
    description="The latest version as it stands; an older one exactly as it was written, with status ARCHIVED.",
    responses=error_responses({404: "No script with this id, or it has no such version."} | STILL_WRITING),
)
async def get_script_version(script_id: str, version: Annotated[int, Path(ge=1)], ledger: LedgerDep) -> Script:
    return await ledger.script_version(script_id, version)


@router.get(
    "/videos/{video_id}/scripts",
    response_model=list[ScriptHistory],
    summary="List a video's scripts with their versions",
    description="Most recently written script first (at most 50); each lists its versions newest first.",
)
async def list_video_scripts(video_id: str, ledger: LedgerDep) -> list[ScriptHistory]:
    return await ledger.scripts_of_video(video_id)
