"""Liveness and readiness: ready means NATS, MongoDB and S3 all answer."""

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from reelflow.gateway.api.deps import StateDep

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT_SEC = 3.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: StateDep) -> JSONResponse:
    async def nats() -> None:
        if not await state.runtime.broker.ping(timeout=CHECK_TIMEOUT_SEC):
            raise ConnectionError("NATS did not answer a ping")

    async def s3() -> None:
        await state.runtime.blobs.stat(state.settings.work_bucket, ".readyz")

    checks: dict[str, Any] = {"nats": nats(), "mongo": state.store.ping(), "s3": s3()}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, timeout=CHECK_TIMEOUT_SEC)
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"failed: {exc}"
    ready = all(value == "ok" for value in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": results}, status_code=200 if ready else 503
    )
