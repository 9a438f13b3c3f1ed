"""Turns a script request into a DRAFT script with the writer the request calls for."""

from datetime import datetime

from reelflow.contracts import Script, ScriptGenerated, ScriptRequested, ScriptStatus
from reelflow.runtime.failures import LlmError
from reelflow.script.outline import write_outline


def write_script(request: ScriptRequested, *, now: datetime) -> ScriptGenerated:
    """Offline outline writer for lesson text. A topic-only request needs the LLM writer, which is not built yet."""
    if not request.source_text.strip():
        raise LlmError(
            f"script {request.script_id}: a topic-only request (title {request.title!r}, no source_text) needs the "
            "LLM writer, which is not available yet; send the lesson text in source_text",
            retryable=False,
        )
    video_script = write_outline(request.source_text, request.options, title=request.title)
    script = Script(
        script_id=request.script_id,
        video_id=request.video_id,
        version=1,
        status=ScriptStatus.DRAFT,
        title=request.title or video_script.chapters[0].title,
        source_text=request.source_text,
        options=request.options,
        script=video_script,
        created_at=now,
    )
    return ScriptGenerated(script=script, auto_render=request.auto_render, render_defaults=request.render_defaults)
