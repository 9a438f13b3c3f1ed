"""The storage service process: the step subscribers, and the periodic scratch sweep beside them."""

import asyncio

from faststream.asgi import AsgiFastStream

from reelflow.runtime.service import build_service
from reelflow.storage.handlers import router
from reelflow.storage.scratch_sweep import sweep_forever
from reelflow.storage.settings import StorageSettings


def create_app() -> AsgiFastStream:
    app, runtime = build_service("storage", StorageSettings(), router)

    @app.after_startup
    async def start_sweep() -> None:
        if runtime.bus.attempts is not None:
            sweep = sweep_forever(blobs=runtime.blobs, attempts=runtime.bus.attempts, settings=runtime.settings)
            runtime.background.append(asyncio.create_task(sweep))

    return app
