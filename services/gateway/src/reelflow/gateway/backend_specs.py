"""The render specs the Spring backend hands out: ``GET {BACKEND_BASE_URL}/internal/scripts/{script_id}/render-spec``
fetched with its Bearer token and a timeout, and read into reelflow's ``RenderSpec`` contract.

The backend answers either the spec itself (a lesson or ranking ``RenderSpec``, ``template`` naming which) or an
envelope ``{"spec": {...}, "script_version": n}`` that also says which version of its script the spec is. Every
way this can go wrong is one of the gateway's typed refusals, so the route answers with the right status and code:
the backend unreachable or not configured (503 ``BACKEND_UNAVAILABLE``), too slow (504 ``BACKEND_TIMEOUT``), an
error answer or no JSON (502 ``BACKEND_FAILED``), no such script (404), or a spec that is not a valid
``RenderSpec`` (422 naming each field under ``spec.``).
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from pydantic import Field, TypeAdapter, ValidationError

from reelflow.contracts import RenderSpec
from reelflow.contracts._base import Contract
from reelflow.contracts.validation import describe_problems, validation_problems
from reelflow.gateway.refusals import (
    BackendFailedError,
    BackendTimeoutError,
    BackendUnavailableError,
    InvalidRequestError,
    NotFoundError,
)
from reelflow.runtime.backend_connection import BackendConnection

log = structlog.get_logger("reelflow.backend")
RENDER_SPEC_PATH = "/internal/scripts/{script_id}/render-spec"
SPEC_FIELD = "spec"
# The discriminator's tag pydantic puts in an error's location; the caller's field path does not have it.
TEMPLATE_TAGS = frozenset({"lesson", "ranking"})
MAX_ANSWER_CHARS = 200
NOT_CONFIGURED = (
    "this gateway has no Spring backend to ask (set BACKEND_BASE_URL, or REELFLOW_BACKEND_BASE_URL); nothing was "
    "started"
)
_SPEC = TypeAdapter[RenderSpec](RenderSpec)


class BackendSpecEnvelope(Contract):
    """The backend's answer when it also names its script's version."""

    spec: RenderSpec
    script_version: int | None = Field(default=None, ge=1)


@dataclass(frozen=True)
class BackendSpec:
    """A render spec from the backend, and the version of its script it was made from (when it said)."""

    spec: RenderSpec
    script_version: int | None = None


def render_spec_url(connection: BackendConnection, script_id: str) -> str:
    """The backend's render-spec URL for ``script_id``, escaped as one path segment."""
    return connection.url(RENDER_SPEC_PATH.format(script_id=quote(script_id, safe="")))


def _without_template_tag(location: tuple[Any, ...]) -> tuple[Any, ...]:
    """The location with the discriminator's tag (``lesson``/``ranking``) pydantic puts after the union taken out."""
    head = 1 if location[:1] == (SPEC_FIELD,) else 0
    if len(location) > head and location[head] in TEMPLATE_TAGS:
        return location[:head] + location[head + 1 :]
    return location


def spec_problems(error: ValidationError, *, within: str) -> list[dict[str, str]]:
    """``[{field, problem}]`` of an invalid spec, each field named as the backend wrote it."""
    errors = [
        {**item, "loc": _without_template_tag(tuple(item.get("loc", ())))}
        for item in error.errors(include_url=False, include_input=False)
    ]
    return validation_problems(errors, within=within, whole=within or SPEC_FIELD)


def parse_backend_spec(answer: Any, *, script_id: str) -> BackendSpec:
    """The backend's JSON answer as a spec: the spec itself, or ``{"spec", "script_version"}``; an invalid one is a
    422 whose problems name each field as ``spec.<path>`` (``script_version`` in an envelope)."""
    envelope = isinstance(answer, dict) and SPEC_FIELD in answer and "template" not in answer
    try:
        if envelope:
            read = BackendSpecEnvelope.model_validate(answer)
            return BackendSpec(read.spec, read.script_version)
        return BackendSpec(_SPEC.validate_python(answer))
    except ValidationError as error:
        problems = spec_problems(error, within="" if envelope else SPEC_FIELD)
        raise InvalidRequestError.of(
            problems,
            message=f"the backend's render spec for script {script_id} is not valid: {describe_problems(problems)}",
        ) from error


class BackendSpecs:
    """Fetches render specs from the backend (one ``httpx`` client, made and closed by the app's lifespan)."""

    def __init__(self, connection: BackendConnection | None, http: httpx.AsyncClient) -> None:
        self._connection = connection
        self._http = http

    async def render_spec(self, script_id: str) -> BackendSpec:
        """The spec the backend gives for its script ``script_id``; raises a typed refusal when it cannot."""
        connection = self._connection
        if connection is None:
            raise BackendUnavailableError(NOT_CONFIGURED)
        url = render_spec_url(connection, script_id)
        details = {"script_id": script_id}
        try:
            response = await self._http.get(url, headers=connection.headers(), timeout=connection.timeout_sec)
        except httpx.TimeoutException as error:
            log.warning("backend render spec timed out", script_id=script_id, error=type(error).__name__)
            raise BackendTimeoutError(
                f"the backend did not answer within {connection.timeout_sec:g} s (BACKEND_TIMEOUT_SEC) for the "
                f"render spec of script {script_id}; nothing was started, try again",
                details=details,
            ) from error
        except httpx.HTTPError as error:
            log.warning("backend unreachable", script_id=script_id, error=f"{type(error).__name__}: {error}")
            raise BackendUnavailableError(
                f"the backend cannot be reached for the render spec of script {script_id}; nothing was started, "
                "try again",
                details=details,
            ) from error
        return _read_answer(response, script_id)


def _read_answer(response: httpx.Response, script_id: str) -> BackendSpec:
    details: dict[str, Any] = {"script_id": script_id, "backend_status": response.status_code}
    if response.status_code == 404:
        raise NotFoundError(f"the backend has no script {script_id} (its render spec answered 404)", details=details)
    if not 200 <= response.status_code < 300:
        log.warning("backend refused a render spec", status=response.status_code, body=response.text[:MAX_ANSWER_CHARS])
        raise BackendFailedError(
            f"the backend answered {response.status_code} for the render spec of script {script_id}; nothing was "
            "started",
            details=details,
        )
    try:
        answer = response.json()
    except ValueError as error:
        raise BackendFailedError(
            f"the backend's render spec for script {script_id} is not JSON; nothing was started", details=details
        ) from error
    return parse_backend_spec(answer, script_id=script_id)
