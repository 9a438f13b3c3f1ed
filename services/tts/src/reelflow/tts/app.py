"""The tts service process."""

from faststream import FastStream

from reelflow.runtime.service import build_service
from reelflow.tts.handlers import DELIVERIES, router
from reelflow.tts.settings import TtsSettings


def create_app() -> FastStream:
    app, _ = build_service("tts", TtsSettings(), router, DELIVERIES)
    return app
