"""Script routes: ask for a script, read it, approve it."""

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from reelflow.contracts import RenderDefaults, Script, ScriptOptions, ScriptRequested
from reelflow.contracts._base import Contract
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.api.deps import LedgerDep
from reelflow.gateway.api.errors import error_body
from reelflow.gateway.ledger import LedgerError
from reelflow.gateway.store import ScriptRequestState

router = APIRouter(prefix="/api", tags=["scripts"])


class GenerateScript(Contract):
    source_text: str = Field(default="", description="The lesson, Markdown or plain text.", max_length=100_000)
    title: str = ""
    options: ScriptOptions = Field(default_factory=ScriptOptions)
    auto_render: bool = False
    render_defaults: RenderDefaults | None = None


class ScriptAccepted(Contract):
    script_id: str
    status: str


@router.post("/videos/{video_id}/scripts/generate", status_code=202, response_model=ScriptAccepted)
async def generate_script(video_id: str, body: GenerateScript, ledger: LedgerDep) -> ScriptAccepted:
    request = ScriptRequested(video_id=video_id, script_id=uuid.uuid4().hex, **body.model_dump())
    await ledger.request_script(request)
    return ScriptAccepted(script_id=request.script_id, status=ScriptRequestState.PENDING)


@router.get("/scripts/{script_id}", response_model=Script, responses={202: {"model": ScriptAccepted}})
async def get_script(script_id: str, ledger: LedgerDep) -> Any:
    script = await ledger.store.get_script(script_id)
    if script is not None:
        return script
    request = await ledger.store.script_request(script_id)
    if request is None:
        raise LedgerError(f"script {script_id} does not exist", api_code=ApiErrorCode.NOT_FOUND, status=404)
    state, error = request
    if state == ScriptRequestState.FAILED and error is not None:
        return JSONResponse(error_body(error.code, error.message, error.details), status_code=422)
    return JSONResponse({"script_id": script_id, "status": state}, status_code=202)


@router.post("/scripts/{script_id}/approve", response_model=Script)
async def approve_script(script_id: str, ledger: LedgerDep) -> Script:
    return await ledger.approve_script(script_id)
