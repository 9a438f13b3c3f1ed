"""Liveness and readiness. Alive: the gateway process itself (its ledger's consume loops), never a dependency call.
Ready: NATS, MongoDB and S3 all answer, checked side by side."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from reelflow.gateway.api.deps import StateDep
from reelflow.gateway.readiness import readiness_body

router = APIRouter(tags=["operations"])


class HealthReport(BaseModel):
    status: str = Field(description="`ok`/`failing` for /healthz, `ready`/`not ready` for /readyz.")
    checks: dict[str, str] = Field(description="Each part and its state; a failing one says why.")
    down: list[str] = Field(default_factory=list, description="/readyz: the dependencies that are down.")


HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"model": HealthReport, "description": "Not alive (or not ready); `checks` says which part."}
}


@router.get(
    "/healthz",
    operation_id="liveness",
    response_model=HealthReport,
    summary="Liveness",
    description="The NATS connection has not given up (reconnecting is alive) and every ledger consume loop is "
    "alive. Answers at once, whatever the dependencies do.",
    responses=HEALTH_RESPONSES,
)
async def healthz(state: StateDep) -> JSONResponse:
    verdict = state.runtime.health.liveness()
    return JSONResponse(verdict.body(), status_code=200 if verdict.ok else 503)


@router.get(
    "/readyz",
    operation_id="readiness",
    response_model=HealthReport,
    summary="Readiness",
    description="NATS, MongoDB and S3 checked concurrently, each within REELFLOW_READINESS_TIMEOUT_SEC (1 s); "
    "`down` names the ones that did not answer.",
    responses=HEALTH_RESPONSES,
)
async def readyz(state: StateDep) -> JSONResponse:
    body, ready = readiness_body(await state.readiness.verdicts())
    return JSONResponse(body, status_code=200 if ready else 503)
