"""The script service process."""

from faststream import FastStream

from reelflow.runtime.service import build_service
from reelflow.script.handlers import DELIVERIES, router
from reelflow.script.settings import ScriptSettings


def create_app() -> FastStream:
    app, _ = build_service("script", ScriptSettings(), router, DELIVERIES)
    return app
