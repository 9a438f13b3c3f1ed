"""The frozen spec a render job snapshots: a lesson's from an approved script, a ranking's from the request."""

from typing import Literal

from pydantic import Field, ValidationError, model_validator

from reelflow.contracts import (
    BrandColours,
    LessonSpec,
    MusicTrack,
    PublishTarget,
    RankingClip,
    RankingSpec,
    RenderDefaults,
    Script,
    SubtitleMode,
    SubtitleStyle,
    VisualStyle,
    Voice,
)
from reelflow.contracts.scripts import LanguageCode
from reelflow.contracts.specs import FrameRate, FrameSize, HttpUrlText, check_brand_theme
from reelflow.contracts.validation import problems_of
from reelflow.gateway.refusals import InvalidRequestError
from reelflow.gateway.request_bodies import RequestBody
from reelflow.gateway.video_ids import VideoId

PUBLISH_NOT_CONFIGURED = (
    "publishing to YouTube is not configured on this install: connect a channel to the workspace at /api/channels "
    "(POST /api/channels/oauth/start), or give the install a channel of its own (REELFLOW_YOUTUBE_CLIENT_ID, "
    "_CLIENT_SECRET and _REFRESH_TOKEN for the uploader and the client id for the gateway); or leave publish out and "
    "download the video with GET /api/assets/{job_id}/video"
)
CALLBACK = (
    "Called with `job.completed` or `job.failed` when the job ends: a POST of `{type, timestamp, data}` signed the "
    "Standard Webhooks way with the gateway's REELFLOW_WEBHOOK_SECRET, retried on the Standard Webhooks schedule; "
    "see GET /api/render-jobs/{job_id}/callbacks. It must be a public address (no loopback, private or link-local "
    "host unless REELFLOW_WEBHOOK_ALLOW_PRIVATE_TARGETS is set)."
)
CALLBACK_NOT_SIGNED = (
    "this install cannot sign callbacks (REELFLOW_WEBHOOK_SECRET is not set) and never sends them unsigned; leave "
    "callback_url out, or subscribe the URL to job.completed with POST /api/webhooks"
)


TITLE_CARD = "Open the video with a 3-second title card: the title over the first chapter's name, in silence"


class RenderOptions(RequestBody):
    """Body of ``POST /api/videos/{video_id}/render-jobs``."""

    script_id: str = Field(min_length=1, max_length=200)
    voice: Voice | None = Field(
        default=None,
        description="The voice: espeak-ng's by default (`espeak-ng --voices`: a language code such as `en-gb`, a voice "
        "file such as `gmw/en-US`, optionally with a variant: `en-us+f3`), or an enabled cloud provider's "
        "(voice.provider openai, polly or google); GET /api/voices lists them. By default the one for the script's "
        "language.",
    )
    visual_style: VisualStyle = VisualStyle.BASIC
    size: FrameSize = "1280x720"
    fps: FrameRate = 30
    subtitles: SubtitleMode = SubtitleMode.BOTH
    subtitle_style: SubtitleStyle = Field(default_factory=SubtitleStyle)
    theme: Literal["dark", "light", "brand"] = "dark"
    brand: BrandColours | None = Field(default=None, description="The brand theme's colours (needed for `brand`).")
    layout: Literal["headline", "bullets"] = Field(
        default="headline", description="`bullets`: each slide adds its key phrase under the chapter's earlier ones."
    )
    title_card: bool = Field(default=False, description=f"{TITLE_CARD}.")
    outro_text: str = Field(default="", max_length=120, description="End with a 3-second card showing this text.")
    music: MusicTrack | None = Field(
        default=None, description="Background music (a media_key from POST /api/uploads), ducked under the narration."
    )
    publish: PublishTarget | None = Field(
        default=None, description="Upload the video to YouTube when done (only where YouTube is configured)."
    )
    callback_url: HttpUrlText | None = Field(default=None, description=CALLBACK)

    @model_validator(mode="after")
    def _brand_theme_has_colours(self) -> "RenderOptions":
        check_brand_theme(self.theme, self.brand)
        return self

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
        subtitle_style=options.subtitle_style,
        theme=options.theme,
        brand=options.brand,
        layout=options.layout,
        title_card=options.title_card,
        outro_text=options.outro_text,
        music=options.music,
        publish=options.publish,
        callback_url=options.callback_url,
    )


class RankingOptions(RequestBody):
    """Body of ``POST /api/ranking-jobs``: the video it renders for, and its :class:`RankingSpec` fields.

    The spec's own rules (rank numbers, unique ranks, clip count, trims, frame size) are checked when the spec is
    built, by :func:`ranking_spec_for`, so they are written once, in the contract.
    """

    video_id: VideoId
    clips: list[RankingClip] = Field(description="One entry per uploaded clip; the short counts down to rank 1.")
    music: MusicTrack | None = None
    title: str = Field(default="", max_length=200)
    size: FrameSize = "1080x1920"
    fps: FrameRate = 30
    language: LanguageCode = Field(default="ko", description="The language the labels are announced in.")
    voice: Voice | None = Field(
        default=None,
        description="Narrate the labels with this voice: each clip is announced (its rank, then its label) as it "
        "takes over the screen, its own sound and the music ducked under it. Without a voice nothing is narrated.",
    )
    title_card: bool = Field(
        default=False, description="Open the short with a 1.5-second card showing its title (which must be set)."
    )
    publish: PublishTarget | None = Field(
        default=None, description="Upload the short to YouTube when done (only where YouTube is configured)."
    )
    callback_url: HttpUrlText | None = Field(default=None, description=CALLBACK)


def ranking_spec_for(options: RankingOptions) -> RankingSpec:
    """The ranking's spec; a request the spec refuses answers 422 naming each field, like any invalid body."""
    try:
        return RankingSpec.model_validate(options.model_dump(exclude={"video_id"}, exclude_none=True))
    except ValidationError as exc:
        raise InvalidRequestError.of(problems_of(exc)) from exc
