"""``reelflow worker NAME``: run one service process in the foreground."""

import asyncio
import importlib
from typing import Any

import uvicorn

SERVICES = ("script", "tts", "compose", "storage", "uploader", "gateway")


def run_worker(name: str) -> None:
    """Stream workers run as FastStream apps; the gateway runs under uvicorn on its configured host and port."""
    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}; choose one of: {', '.join(SERVICES)}")
    module: Any = importlib.import_module(f"reelflow.{name}.app")
    if name == "gateway":
        from reelflow.gateway.settings import GatewaySettings

        settings = GatewaySettings()
        uvicorn.run(
            module.create_app(settings),
            host=settings.gateway_host,
            port=settings.gateway_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
        return
    asyncio.run(module.create_app().run())
