"""The compose service process."""

from faststream.asgi import AsgiFastStream

from reelflow.compose.handlers import router
from reelflow.compose.settings import ComposeSettings
from reelflow.runtime.service import build_service


def create_app() -> AsgiFastStream:
    app, _ = build_service("compose", ComposeSettings(), router)
    return app
