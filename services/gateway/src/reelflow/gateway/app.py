"""The gateway process: FastAPI (REST, SSE) plus the ledger's NATS subscribers, sharing one lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pymongo import AsyncMongoClient

from reelflow.gateway.api.deps import GatewayState
from reelflow.gateway.api.errors import install_error_handlers
from reelflow.gateway.api.routes import assets, health, metrics, ranking_jobs, render_jobs, scripts, uploads
from reelflow.gateway.handlers import router
from reelflow.gateway.http_observability import instrument_http
from reelflow.gateway.ledger import Ledger
from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.settings import GatewaySettings
from reelflow.gateway.store import LedgerStore
from reelflow.runtime.scratch_space import claim_scratch_space
from reelflow.runtime.service import build_runtime, connect_bus, stop_background, watch_consumers


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    runtime = build_runtime("gateway", settings, router)
    hub = ProgressHub()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        claim_scratch_space("gateway")
        timeout = settings.mongo_timeout_ms
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongo_url,
            tz_aware=True,
            serverSelectionTimeoutMS=timeout,
            connectTimeoutMS=timeout,
            socketTimeoutMS=timeout * 2,
        )
        store = LedgerStore(mongo, settings.mongo_db)
        await store.ensure_indexes()
        ledger = Ledger(store, runtime.bus, hub)
        runtime.broker.context.set_global("ledger", ledger)
        await connect_bus(runtime)
        await runtime.broker.start()
        watch_consumers(runtime)
        app.state.gateway = GatewayState(settings=settings, runtime=runtime, store=store, ledger=ledger, hub=hub)
        try:
            yield
        finally:
            await stop_background(runtime)
            await runtime.broker.stop()
            await mongo.close()

    app = FastAPI(
        title="reelflow gateway",
        version="0.1.0",
        description="Lesson text to narrated, subtitled video; uploaded clips to ranking shorts. "
        "Errors are {'error': {code, message, details}}.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    instrument_http(app)
    for module in (scripts, render_jobs, uploads, ranking_jobs, assets, health, metrics):
        app.include_router(module.router)
    return app
