"""The tts service process."""

from faststream.asgi import AsgiFastStream

from reelflow.runtime.service import build_service
from reelflow.tts.handlers import router
from reelflow.tts.settings import TtsSettings


def create_app() -> AsgiFastStream:
    app, _ = build_service("tts", TtsSettings(), router)
    return app
