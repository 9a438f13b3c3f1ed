"""The frozen spec a render job snapshots: a lesson's from an approved script, a ranking's from the request."""

from pydantic import Field, ValidationError

from reelflow.contracts import (
    LessonSpec,
    MusicTrack,
    PublishTarget,
    RankingClip,
    RankingSpec,
    RenderDefaults,
    Script,
    SubtitleMode,
    VisualStyle,
    Voice,
)
from reelflow.contracts._base import Contract
from reelflow.contracts.errors import ApiErrorCode
from reelflow.contracts.scripts import NonBlank
from reelflow.gateway.refusals import LedgerError


class RenderOptions(Contract):
    """Body of ``POST /api/videos/{video_id}/render-jobs``."""

    script_id: str = Field(min_length=1)
    voice: Voice | None = None
    visual_style: VisualStyle = VisualStyle.BASIC
    size: str = "1280x720"
    fps: int = Field(default=30, ge=10, le=60)
    subtitles: SubtitleMode = SubtitleMode.BOTH
    music: MusicTrack | None = Field(
        default=None, description="Background music (a media_key from POST /api/uploads), ducked under the narration."
    )
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
        music=options.music,
        publish=options.publish,
        callback_url=options.callback_url,
    )


class RankingOptions(Contract):
    """Body of ``POST /api/ranking-jobs``: the video it renders for, and its :class:`RankingSpec` fields.

    The spec's own rules (rank numbers, unique ranks, clip count, trims, frame size) are checked when the spec is
    built, by :func:`ranking_spec_for`, so they are written once, in the contract.
    """

    video_id: NonBlank
    clips: list[RankingClip] = Field(description="One entry per uploaded clip; the short counts down to rank 1.")
    music: MusicTrack | None = None
    title: str = ""
    size: str = Field(default="1080x1920", description="WIDTHxHEIGHT, even numbers; 9:16 by default.")
    fps: int = 30
    voice: Voice | None = Field(
        default=None,
        description="Asks for the labels to be narrated with this voice. Not built yet: the short carries the "
        "clips' own sound and the music.",
    )
    publish: PublishTarget | None = None
    callback_url: str | None = None


def ranking_spec_for(options: RankingOptions) -> RankingSpec:
    """The ranking's spec; a request the spec refuses answers 422 naming each field, like any invalid body."""
    try:
        return RankingSpec.model_validate(options.model_dump(exclude={"video_id"}, exclude_none=True))
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(part) for part in error["loc"]) or "body", "problem": error["msg"]}
            for error in exc.errors()
        ]
        raise LedgerError(
            "; ".join(f"{problem['field']}: {problem['problem']}" for problem in problems),
            api_code=ApiErrorCode.VALIDATION_FAILED,
            status=422,
            details={"problems": problems},
        ) from exc
