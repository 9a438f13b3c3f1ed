"""The compose service process."""

from faststream import FastStream

from reelflow.compose.handlers import DELIVERIES, router
from reelflow.compose.settings import ComposeSettings
from reelflow.runtime.service import build_service


def create_app() -> FastStream:
    app, _ = build_service("compose", ComposeSettings(), router, DELIVERIES)
    return app
