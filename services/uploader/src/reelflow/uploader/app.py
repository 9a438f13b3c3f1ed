"""The uploader service process."""

from faststream import FastStream

from reelflow.runtime.service import build_service
from reelflow.uploader.handlers import DELIVERIES, router
from reelflow.uploader.settings import UploaderSettings


def create_app() -> FastStream:
    app, _ = build_service("uploader", UploaderSettings(), router, DELIVERIES)
    return app
