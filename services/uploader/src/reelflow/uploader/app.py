"""The uploader service process."""

from faststream.asgi import AsgiFastStream

from reelflow.runtime.service import build_service
from reelflow.uploader.handlers import router
from reelflow.uploader.settings import UploaderSettings


def create_app() -> AsgiFastStream:
    app, _ = build_service("uploader", UploaderSettings(), router)
    return app
