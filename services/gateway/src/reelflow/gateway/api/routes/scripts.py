"""Script routes: ask for a script, read it and its versions, edit it (a new version), approve it."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Response
from fastapi.responses import JSONResponse

from reelflow.contracts import Script
from reelflow.gateway.accounts import Scope
from reelflow.gateway.api.deps import AccessDep, Reader, ScriptsDep, ScriptWriter
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.api.links import SCRIPT_ACCEPTED_LINKS, SCRIPT_LINKS
from reelflow.gateway.ownership import VideoKind
from reelflow.gateway.script_commands import GenerateScript, ScriptAccepted, ScriptBeingWritten
from reelflow.gateway.script_versions import (
    IF_MATCH_PATTERN,
    ScriptApproval,
    ScriptEdit,
    ScriptHistory,
    expected_version,
    version_etag,
)
from reelflow.gateway.video_ids import VIDEO_ID_PATTERN

router = APIRouter(prefix="/api", tags=["scripts"])

VideoIdPath = Annotated[str, Path(pattern=VIDEO_ID_PATTERN, description="The video the script is for.")]
IfMatch = Annotated[
    str | None,
    Header(
        description='The version being acted on, as the ETag GET returned (`"2"`). A stale one answers 409.',
        pattern=IF_MATCH_PATTERN,
    ),
]
NOT_FOUND = {404: "No script with this id."}
STILL_WRITING = {409: "The script is still being written (NOT_READY); ask again once GET answers 200."}


@router.post(
    "/videos/{video_id}/scripts/generate",
    operation_id="generateScript",
    status_code=202,
    response_model=ScriptAccepted,
    summary="Ask for a script to be written from a lesson",
    description="The script is written in the background as version 1, a DRAFT (APPROVED, with its render job "
    "started, when `auto_render` is set). Poll `GET /api/scripts/{script_id}` until it answers 200. The request is "
    "recorded before it is answered, so a 202 takes effect even while NATS is down; `render_defaults` are checked "
    "now (voice, music, publish) like a render-jobs request.",
    responses={
        202: {"description": "Accepted: the script is being written.", "links": SCRIPT_ACCEPTED_LINKS},
        **error_responses(
            {422: "No `source_text` (nor `title`), or `render_defaults` that could not render; `details.problems`."}
        ),
    },
)
async def generate_script(
    video_id: VideoIdPath, body: GenerateScript, caller: ScriptWriter, access: AccessDep, scripts: ScriptsDep
) -> ScriptAccepted:
    if body.auto_render:
        caller.require(Scope.RENDER)
    defaults = body.render_defaults
    if defaults is not None and defaults.publish is not None:
        caller.require(Scope.PUBLISH)
    if defaults is not None:
        await access.lesson_music(caller, defaults.music, within="render_defaults")
    async with access.video_for(caller, video_id, VideoKind.LESSON, body.title):
        accepted = await scripts.request_script(video_id, body)
    await access.note_script(video_id, accepted.script_id)
    return accepted


@router.get(
    "/scripts/{script_id}",
    operation_id="getScript",
    response_model=Script,
    summary="Read a script (its latest version)",
    description="The `ETag` header carries the version, for `If-Match` on a later edit or approval.",
    responses={
        200: {"description": "The script's latest version.", "links": SCRIPT_LINKS},
        202: {"model": ScriptAccepted, "description": "Still being written; ask again shortly."},
        **error_responses(NOT_FOUND | {422: "Writing the script failed; the error (its job code) says why."}),
    },
)
async def get_script(script_id: str, caller: Reader, access: AccessDep, scripts: ScriptsDep, response: Response) -> Any:
    await access.script(caller, script_id)
    found = await scripts.read_script(script_id)
    if isinstance(found, ScriptBeingWritten):
        accepted = ScriptAccepted(script_id=found.script_id, status=found.state)
        return JSONResponse(accepted.model_dump(mode="json"), status_code=202)
    response.headers["ETag"] = version_etag(found.version)
    return found


@router.put(
    "/scripts/{script_id}",
    operation_id="editScript",
    response_model=Script,
    summary="Edit a script's chapters and scenes, making its next version",
    description="The edit becomes version + 1, a DRAFT that must be approved again before it renders. Earlier "
    "versions stay readable; render jobs already started keep the spec they froze. Name the version you edited "
    "(`version` in the body or `If-Match`) to be told, instead of overwriting, when someone changed it first. "
    "An edit that changes nothing makes no new version. Every script keeps the same limits: at most 2000 "
    "characters of narration per scene, 30 chapters and 1500 scenes.",
    responses={
        200: {"description": "The new version (or the script as it was, when nothing changed).", "links": SCRIPT_LINKS},
        **error_responses(
            NOT_FOUND
            | {
                409: "The edited version is not the latest (`details.current_version` says which is), the script is "
                "archived, or it is still being written.",
                422: "The body is not a valid script (or breaks a limit); `details.problems` names each field.",
            }
        ),
    },
)
async def edit_script(
    script_id: str,
    edit: ScriptEdit,
    caller: ScriptWriter,
    access: AccessDep,
    scripts: ScriptsDep,
    response: Response,
    if_match: IfMatch = None,
) -> Script:
    await access.script(caller, script_id)
    script = await scripts.edit_script(script_id, edit, expected_version=expected_version(edit.version, if_match))
    response.headers["ETag"] = version_etag(script.version)
    return script


@router.post(
    "/scripts/{script_id}/approve",
    operation_id="approveScript",
    response_model=Script,
    summary="Approve a script's latest version for rendering",
    description="Only the latest version can be approved. Naming the version you reviewed (`version` in the body "
    "or `If-Match`) makes sure that is the one approved. Approving twice is harmless.",
    responses={
        200: {"description": "The approved script.", "links": SCRIPT_LINKS},
        **error_responses(
            NOT_FOUND
            | {
                409: "The named version is not the latest (`details.current_version` says which is), the script is "
                "archived, or it is still being written."
            }
        ),
    },
)
async def approve_script(
    script_id: str,
    caller: ScriptWriter,
    access: AccessDep,
    scripts: ScriptsDep,
    response: Response,
    approval: Annotated[ScriptApproval | None, Body()] = None,
    if_match: IfMatch = None,
) -> Script:
    await access.script(caller, script_id)
    body_version = approval.version if approval is not None else None
    script = await scripts.approve_script(script_id, expected_version=expected_version(body_version, if_match))
    response.headers["ETag"] = version_etag(script.version)
    return script


@router.get(
    "/scripts/{script_id}/versions",
    operation_id="listScriptVersions",
    response_model=ScriptHistory,
    summary="List a script's versions, newest first",
    responses=error_responses(NOT_FOUND | STILL_WRITING),
)
async def list_script_versions(script_id: str, caller: Reader, access: AccessDep, scripts: ScriptsDep) -> ScriptHistory:
    await access.script(caller, script_id)
    return await scripts.script_history(script_id)


@router.get(
    "/scripts/{script_id}/versions/{version}",
    operation_id="getScriptVersion",
    response_model=Script,
    summary="Read one version of a script",
    description="The latest version as it stands; an older one exactly as it was written, with status ARCHIVED.",
    responses=error_responses({404: "No script with this id, or it has no such version."} | STILL_WRITING),
)
async def get_script_version(
    script_id: str,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    caller: Reader,
    access: AccessDep,
    scripts: ScriptsDep,
) -> Script:
    await access.script(caller, script_id)
    return await scripts.script_version(script_id, version)


@router.get(
    "/videos/{video_id}/scripts",
    operation_id="listVideoScripts",
    response_model=list[ScriptHistory],
    summary="List a video's scripts with their versions",
    description="Most recently written script first (at most 50); each lists its versions newest first.",
    responses=error_responses({404: "No such video in this workspace (or it was deleted)."}),
)
async def list_video_scripts(
    video_id: VideoIdPath, caller: Reader, access: AccessDep, scripts: ScriptsDep
) -> list[ScriptHistory]:
    await access.video(caller, video_id)
    return await scripts.scripts_of_video(video_id)
