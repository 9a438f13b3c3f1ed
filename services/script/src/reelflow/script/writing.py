"""Turns a script request into a DRAFT script, with the writer the request and the settings call for.

Which writer:

- LLM configured (``REELFLOW_LLM_BASE_URL`` and ``REELFLOW_LLM_MODEL`` both set): every request goes to the
  LLM writer (``llm``). Lesson text is given to it as data; a topic-only request (a ``title`` and no
  ``source_text``) asks for a script about the title.
- Not configured: lesson text goes to the offline outline writer (``outline``). A topic-only request fails at
  once with ``LLM_FAILED``, not retryable, naming the settings to set.

"Configured" needs both settings: a base URL alone (as the test suite's paid-API guard sets) does not switch
the service over to the LLM, and no URL is assumed, so nothing reaches a paid API unless asked to.
An LLM failure is not papered over with the offline writer: the request fails with ``LLM_FAILED``, and the
error says what to change. Both writers' output passes the same check (``validation``).
"""

from datetime import datetime

from reelflow.contracts import Script, ScriptGenerated, ScriptRequested, ScriptStatus, VideoScript
from reelflow.runtime.failures import LlmError
from reelflow.runtime.service import ServiceRuntime
from reelflow.script.llm import LlmWriter
from reelflow.script.markdown_blocks import document_title
from reelflow.script.outline import write_outline
from reelflow.script.settings import ScriptSettings

_RUNTIME_KEY = "script_writer"


class ScriptWriter:
    """The service's writers: the offline outline writer always, the LLM writer when it is configured."""

    def __init__(self, settings: ScriptSettings, *, llm: LlmWriter | None = None) -> None:
        self.settings = settings
        self.llm = llm if llm is not None else (LlmWriter(settings) if settings.llm_configured else None)

    async def aclose(self) -> None:
        if self.llm is not None:
            await self.llm.aclose()

    async def write(self, request: ScriptRequested) -> VideoScript:
        """The chapters and scenes for ``request``; see the module docstring for which writer runs."""
        has_source = bool(request.source_text.strip())
        if self.llm is not None:
            return await self.llm.write(request.options, source_text=request.source_text, title=request.title)
        if has_source:
            return write_outline(request.source_text, request.options, title=request.title)
        missing = self.settings.llm_missing_settings()
        if len(missing) == 1:
            what = f"set {missing[0]} as well: the LLM writer needs both REELFLOW_LLM_BASE_URL and REELFLOW_LLM_MODEL"
        else:
            what = (
                "set REELFLOW_LLM_BASE_URL (an OpenAI-compatible API, e.g. https://api.openai.com/v1) and "
                "REELFLOW_LLM_MODEL (a model it serves)"
            )
        raise LlmError(
            f"a topic-only request (title {request.title!r}, no source_text) needs the LLM writer, and no LLM is "
            f"configured: {what}; or send the lesson text in source_text for the offline writer",
            retryable=False,
            details={"missing_settings": missing},
        )


async def write_script(request: ScriptRequested, *, writer: ScriptWriter, now: datetime) -> ScriptGenerated:
    """The ``rf.script.generated`` event for ``request``: version 1 of a DRAFT script."""
    video_script = await writer.write(request)
    script = Script(
        script_id=request.script_id,
        video_id=request.video_id,
        version=1,
        status=ScriptStatus.DRAFT,
        title=request.title or document_title(request.source_text) or video_script.chapters[0].title,
        source_text=request.source_text,
        options=request.options,
        script=video_script,
        created_at=now,
    )
    return ScriptGenerated(script=script, auto_render=request.auto_render, render_defaults=request.render_defaults)


async def script_writer(runtime: ServiceRuntime[ScriptSettings]) -> ScriptWriter:
    """The process's one writer, made on first use and kept in ``runtime.extras``.

    One writer means one ``openai`` client and connection pool per process. If ``runtime.settings`` has been
    replaced since (tests do this), the old writer is closed and a new one made for the new settings.
    """
    cached = runtime.extras.get(_RUNTIME_KEY)
    if isinstance(cached, ScriptWriter):
        if cached.settings is runtime.settings:
            return cached
        await cached.aclose()
    writer = ScriptWriter(runtime.settings)
    runtime.extras[_RUNTIME_KEY] = writer
    return writer


async def close_script_writer(runtime: ServiceRuntime[ScriptSettings]) -> None:
    """Close the process's writer (its HTTP client), if one was made."""
    cached = runtime.extras.pop(_RUNTIME_KEY, None)
    if isinstance(cached, ScriptWriter):
        await cached.aclose()
