"""The tts service process."""

import structlog
from faststream.asgi import AsgiFastStream

from reelflow.runtime.service import build_service
from reelflow.tts.enabled_providers import close_providers
from reelflow.tts.handlers import router
from reelflow.tts.settings import TtsSettings

log = structlog.get_logger("reelflow.tts")


def create_app() -> AsgiFastStream:
    settings = TtsSettings()
    app, runtime = build_service("tts", settings, router)

    @app.on_startup
    async def announce_providers() -> None:
        log.info("speech providers", enabled=["espeak", *(p for p in settings.voice_providers if p != "espeak")])

    @app.on_shutdown
    async def close_speech_providers() -> None:
        await close_providers(runtime)

    return app
