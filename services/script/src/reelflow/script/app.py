"""The script service process."""

import structlog
from faststream.asgi import AsgiFastStream

from reelflow.runtime.service import build_service
from reelflow.script.handlers import router
from reelflow.script.settings import ScriptSettings
from reelflow.script.writing import close_script_writer

log = structlog.get_logger("reelflow.script")


def create_app() -> AsgiFastStream:
    settings = ScriptSettings()
    app, runtime = build_service("script", settings, router)

    @app.on_startup
    async def announce_writer() -> None:
        if settings.llm_configured:
            log.info("LLM writer on", model=settings.llm_model, base_url=settings.llm_base_url)
        elif settings.llm_base_url or settings.llm_model:
            log.warning(
                "LLM writer off: half configured; lessons use the offline writer, topic-only requests fail",
                missing=settings.llm_missing_settings(),
            )
        else:
            log.info("LLM writer off: lessons use the offline writer, topic-only requests fail")

    @app.on_shutdown
    async def close_writer() -> None:
        await close_script_writer(runtime)

    return app
