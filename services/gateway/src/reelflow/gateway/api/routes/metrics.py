"""``GET /metrics``: the gateway's Prometheus metrics (HTTP API, ledger steps, consumer lag, the process)."""

from fastapi import APIRouter
from fastapi.responses import Response

from reelflow.gateway.api.deps import StateDep
from reelflow.runtime.metrics import exposition

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(state: StateDep) -> Response:
    body, content_type = await exposition(state.runtime.bus.connection, state.runtime.health.loops)
    return Response(body, media_type=content_type)
