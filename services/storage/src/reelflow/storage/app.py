"""The storage service process."""

from faststream import FastStream

from reelflow.runtime.service import build_service
from reelflow.storage.handlers import DELIVERIES, router
from reelflow.storage.settings import StorageSettings


def create_app() -> FastStream:
    app, _ = build_service("storage", StorageSettings(), router, DELIVERIES)
    return app
