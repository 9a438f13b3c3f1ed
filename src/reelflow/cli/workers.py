"""``reelflow worker NAME``: run one service process in the foreground, under uvicorn.

uvicorn owns SIGTERM/SIGINT for every service: it stops taking requests and runs the app's shutdown, which
stops the broker (no new messages; in-flight work finishes within ``REELFLOW_SHUTDOWN_GRACE_SEC`` or is handed
back). Stream workers serve ``/healthz`` and ``/readyz`` on ``REELFLOW_HEALTH_PORT``; the gateway serves its API.
"""

import importlib
import signal
from typing import Any

import uvicorn

SERVICES = ("script", "tts", "compose", "storage", "uploader", "gateway")
# Extra seconds uvicorn gives open HTTP connections (an SSE stream, a probe) beyond the drain itself.
HTTP_CLOSE_GRACE_SEC = 5


def run_worker(name: str) -> None:
    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}; choose one of: {', '.join(SERVICES)}")
    module: Any = importlib.import_module(f"reelflow.{name}.app")
    if name == "gateway":
        from reelflow.gateway.settings import GatewaySettings

        gateway_settings = GatewaySettings()
        app, host, port, grace = (
            module.create_app(gateway_settings),
            gateway_settings.gateway_host,
            gateway_settings.gateway_port,
            gateway_settings.shutdown_grace_sec,
        )
    else:
        from reelflow.runtime.settings import ServiceSettings

        # Every service's settings extend ServiceSettings, so these read the same environment variables.
        settings = ServiceSettings()
        app = module.create_app()
        host, port, grace = settings.health_host, settings.health_port, settings.shutdown_grace_sec
    # uvicorn re-raises the signal it stopped on once it is done, so the process would die "killed by SIGTERM".
    # A Python handler in its place makes that re-raise a no-op: a requested stop exits 0.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _stopped_on_request)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(grace) + HTTP_CLOSE_GRACE_SEC,
    )


def _stopped_on_request(signum: int, frame: object) -> None:
    """Stands in for the default action after uvicorn has already shut down gracefully."""
