"""Every API failure as ``{"error": {"code", "message", "details"}}`` with the right status code."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from reelflow.contracts import ErrorCode, IllegalTransitionError
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.refusals import LedgerError
from reelflow.runtime.failures import ReelflowError

STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.INVALID_SCRIPT: 422,
    ErrorCode.MEDIA_INVALID: 422,
    ErrorCode.LLM_FAILED: 502,
    ErrorCode.STORAGE_UPLOAD_FAILED: 503,
    ErrorCode.TIMEOUT: 504,
}


class ApiErrorInfo(BaseModel):
    code: str = Field(description="NOT_FOUND, VALIDATION_FAILED, CONFLICT, NOT_READY, or a job error code.")
    message: str = Field(description="What went wrong and, where there is one, the call that fixes it.")
    details: dict[str, Any] = Field(default_factory=dict)


class ApiError(BaseModel):
    """The body of every error answer (documented in OpenAPI through ``error_responses``)."""

    error: ApiErrorInfo


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's error answers, each one an :class:`ApiError` body."""
    return {status: {"model": ApiError, "description": text} for status, text in descriptions.items()}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location if part != "body") or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, error: LedgerError) -> JSONResponse:
        return JSONResponse(error_body(error.api_code, error.message, error.details), status_code=error.status)

    @app.exception_handler(ReelflowError)
    async def step_error(_: Request, error: ReelflowError) -> JSONResponse:
        status = STATUS_BY_CODE.get(error.code, 500)
        return JSONResponse(error_body(error.code, error.message, error.details), status_code=status)

    @app.exception_handler(IllegalTransitionError)
    async def illegal_move(_: Request, error: IllegalTransitionError) -> JSONResponse:
        return JSONResponse(error_body(ApiErrorCode.CONFLICT, str(error)), status_code=409)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [{"field": _field_path(item["loc"]), "problem": item["msg"]} for item in error.errors()]
        message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse(
            error_body(ApiErrorCode.VALIDATION_FAILED, message, {"problems": problems}), status_code=422
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        code = ApiErrorCode.NOT_FOUND if error.status_code == 404 else ApiErrorCode.VALIDATION_FAILED
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)
