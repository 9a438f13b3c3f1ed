"""The frozen spec a render job snapshots from an approved script and the caller's render options."""

from pydantic import Field

from reelflow.contracts import (
    LessonSpec,
    PublishTarget,
    RenderDefaults,
    Script,
    SubtitleMode,
    VisualStyle,
    Voice,
)
from reelflow.contracts._base import Contract


class RenderOptions(Contract):
    """Body of ``POST /api/videos/{video_id}/render-jobs``."""

    script_id: str = Field(min_length=1)
    voice: Voice | None = None
    visual_style: VisualStyle = VisualStyle.BASIC
    size: str = "1280x720"
    fps: int = Field(default=30, ge=10, le=60)
    subtitles: SubtitleMode = SubtitleMode.BOTH
    publish: PublishTarget | None = None
    callback_url: str | None = None

    @classmethod
    def from_defaults(cls, script_id: str, defaults: RenderDefaults | None) -> "RenderOptions":
        if defaults is None:
            return cls(script_id=script_id)
        return cls(script_id=script_id, **defaults.model_dump())


def lesson_spec_for(script: Script, options: RenderOptions) -> LessonSpec:
    return LessonSpec(
        title=script.title,
        language=script.options.language,
        script=script.script,
        voice=options.voice or Voice(),
        visual_style=options.visual_style,
        size=options.size,
        fps=options.fps,
        subtitles=options.subtitles,
        publish=options.publish,
        callback_url=options.callback_url,
    )
