"""Render specs: the frozen snapshot a job renders, a discriminated union on ``template``."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from reelflow.contracts._base import Contract
from reelflow.contracts.scripts import LanguageCode, NonBlank, VideoScript
from reelflow.contracts.upload_keys import FONT_UPLOAD_KEY_PATTERN, IMAGE_UPLOAD_KEY_PATTERN, UPLOAD_KEY_PATTERN

FrameSizeText = Annotated[str, StringConstraints(pattern=r"^\d{2,4}x\d{2,4}$")]
FontUploadKey = Annotated[
    str,
    StringConstraints(pattern=FONT_UPLOAD_KEY_PATTERN),
    Field(description="A font's media_key from POST /api/uploads: uploads/{sha256}.ttf or .otf."),
]
ImageUploadKey = Annotated[
    str,
    StringConstraints(pattern=IMAGE_UPLOAD_KEY_PATTERN),
    Field(description="A picture's media_key from POST /api/uploads: uploads/{sha256}.png, .jpg or .webp."),
]
UploadKey = Annotated[
    str,
    StringConstraints(pattern=UPLOAD_KEY_PATTERN),
    Field(description="A media_key from POST /api/uploads: uploads/{sha256}.{ext}."),
]


def _bucket_key(key: str) -> str:
    """A relative object key: no empty, ``.`` or ``..`` segment, no leading slash, no control characters."""
    if any(ord(char) < 32 or ord(char) == 127 for char in key) or key.startswith("/") or len(key) > 1024:
        raise ValueError("must be an object key without control characters or a leading '/', e.g. uploads/….mp4")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise ValueError("must not contain empty, '.' or '..' path segments")
    return key


MediaKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_bucket_key)]
MAX_URL_CHARS = 2048


def _http_url(url: str) -> str:
    """An absolute http(s) URL with a host, no spaces or control characters: a callback that can be delivered."""
    if len(url) > MAX_URL_CHARS or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise ValueError("must be an http(s) URL without spaces or control characters, at most 2048 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL with a host, e.g. https://example.com/hook")
    del port
    return url


HttpUrlText = Annotated[str, AfterValidator(_http_url)]


def frame_size(size: str) -> tuple[int, int]:
    """``"1280x720"`` → ``(1280, 720)``."""
    width, height = size.split("x")
    return int(width), int(height)


def _even_frame_size(size: str) -> str:
    width, height = frame_size(size)
    if width % 2 or height % 2 or width < 64 or height < 64:
        raise ValueError(f"size {size!r} must be WIDTHxHEIGHT with even numbers of at least 64, e.g. 1280x720")
    return size


# The one frame-size rule, for specs and for every request that names a size: WIDTHxHEIGHT, even, at least 64.
FrameSize = Annotated[
    FrameSizeText,
    AfterValidator(_even_frame_size),
    Field(description="WIDTHxHEIGHT in pixels, both even and at least 64, e.g. 1280x720."),
]
FrameRate = Annotated[int, Field(ge=10, le=60, description="Frames per second, 10 to 60.")]


MAX_LEXICON_ENTRIES = 500
LexiconWord = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LexiconSpoken = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


VoiceProvider = Literal["espeak", "openai", "polly", "google"]
VOICE_PROVIDERS: tuple[VoiceProvider, ...] = ("espeak", "openai", "polly", "google")


class Voice(Contract):
    provider: VoiceProvider = Field(
        default="espeak",
        description="Who speaks: espeak (espeak-ng, offline, always there), openai (OpenAI TTS), polly (AWS Polly) "
        "or google (Google Cloud Text-to-Speech); a cloud provider only where this install has configured it "
        "(GET /api/voices lists what it has).",
    )
    voice: str | None = Field(default=None, description="Provider voice name; by default derived from the language.")
    rate: float = Field(default=1.0, ge=0.5, le=2.0, description="Speaking-rate multiplier.")
    pitch: float = Field(
        default=0.0,
        ge=-12,
        le=12,
        description="Semitones above (+) or below (-) the voice's own pitch. espeak-ng, Google and Polly's standard "
        "engine apply it; OpenAI is asked in words (not tts-1); Polly's neural voices cannot change pitch.",
    )
    lexicon: dict[LexiconWord, LexiconSpoken] = Field(
        default_factory=dict,
        max_length=MAX_LEXICON_ENTRIES,
        description=(
            'Pronunciation lexicon: a written word and how to say it (e.g. {"SQL": "sequel"}). Whole words, '
            "case-insensitive, applied before the built-in reading of numbers, dates and units; "
            "subtitles keep the written word."
        ),
    )


HexColour = Annotated[
    str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$"), Field(description="A colour as #RRGGBB, e.g. #FFD400.")
]


class SubtitleStyle(Contract):
    """How burned subtitles look. Sizes are multipliers of what the frame size calls for, so one style reads
    alike at 720p and on a 9:16 phone video; the SRT/VTT sidecars break their lines the same way."""

    font: Literal["gothic", "barun_gothic", "square_round", "myeongjo"] = Field(
        default="gothic",
        description="Nanum Gothic (default), Nanum Barun Gothic, Nanum Square Round or Nanum Myeongjo.",
    )
    size: float = Field(default=1.0, ge=0.6, le=1.8, description="Text size, times the size for the frame.")
    colour: HexColour = "#FFFFFF"
    outline_colour: HexColour = "#000000"
    outline: float = Field(default=1.0, ge=0, le=3, description="Outline width, times the default; 0 for none.")
    box: bool = Field(default=False, description="A box behind the text (in box_colour) instead of an outline.")
    box_colour: HexColour = "#000000"
    box_opacity: float = Field(default=0.6, ge=0, le=1)
    position: Literal["bottom", "top"] = Field(
        default="bottom",
        description="`top` keeps the bottom of the frame clear (a player's own captions); it can overlap a "
        "slide's chapter line.",
    )


class BrandColours(Contract):
    """The ``brand`` theme's colours: slides on the brand's background, its accent on the rule and bar."""

    background: HexColour = Field(description="The slides' background (a gentle gradient is made from it).")
    accent: HexColour = Field(description="The rule under the title and the bar beside each slide's chapter.")
    text: HexColour | None = Field(
        default=None, description="The headline colour; by default white or near-black, whichever reads on it."
    )
    logo: ImageUploadKey | None = Field(
        default=None,
        description="A picture from POST /api/uploads (PNG with transparency works best): small at the top right "
        "of each slide, and above the title on the title card, the outro card and the thumbnail.",
    )
    font: FontUploadKey | None = Field(
        default=None,
        description="A TrueType or OpenType font from POST /api/uploads for the slides' text (headline, chapter, "
        "cards and thumbnail; the subtitles keep `subtitle_style.font`). It must have every character the lesson "
        "shows: a Latin-only font cannot draw Korean.",
    )


def check_brand_theme(theme: str, brand: BrandColours | None) -> None:
    """The ``brand`` theme takes its colours from ``brand``: one without the other is refused, naming it."""
    if theme == "brand" and brand is None:
        raise ValueError('theme "brand" needs brand colours: add brand {"background": "#RRGGBB", "accent": …}')


class VisualStyle(StrEnum):
    BASIC = "basic"
    ANIMATED = "animated"


class SubtitleMode(StrEnum):
    BURN = "burn"
    SIDECAR = "sidecar"
    BOTH = "both"


class MusicTrack(Contract):
    media_key: MediaKey
    volume: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description=(
            "The music's level under the narration or the clips' own sound, after the file is brought to the "
            "published loudness (-16 LUFS), so a quiet file and a loud one sound alike. A ranking short whose "
            "clips are all muted plays the music as its soundtrack, at that loudness."
        ),
    )


class PublishTarget(Contract):
    platform: Literal["youtube"] = "youtube"
    title: NonBlank
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    privacy: Literal["public", "unlisted", "private"] = "private"
    publish_at: datetime | None = Field(
        default=None, description="A scheduled release: the video stays private until then, whatever `privacy` says."
    )
    category_id: Annotated[str, StringConstraints(pattern=r"^\d{1,3}$")] | None = Field(
        default=None, description="YouTube video category id (e.g. 27 Education); by default the uploader's setting."
    )
    default_language: LanguageCode | None = Field(
        default=None, description="Language of the title, description and captions; by default the lesson's."
    )
    made_for_kids: bool = Field(default=False, description="Declared to YouTube as made for kids (COPPA).")
    channel_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,64}$")] | None = Field(
        default=None,
        description="The YouTube channel id (UC…) of a channel the workspace connected (GET /api/channels). "
        "Null: the install's own channel, or the workspace's only connected channel when the install has none.",
    )
    workspace_id: str | None = Field(
        default=None,
        description="Set by the gateway when it stores the job: the workspace whose connected channel channel_id "
        "names. Whatever a request sends here is replaced.",
    )


def _template_is_required(schema: dict[str, Any]) -> None:
    """``template`` has a default for Python callers, but on the wire the union needs it to pick a spec."""
    required = schema.setdefault("required", [])
    if "template" not in required:
        required.append("template")


class _SpecCommon(Contract):
    model_config = ConfigDict(json_schema_extra=_template_is_required)

    title: str = ""
    fps: FrameRate = 30
    music: MusicTrack | None = None
    publish: PublishTarget | None = None
    callback_url: HttpUrlText | None = None


class LessonSpec(_SpecCommon):
    template: Literal["lesson"] = "lesson"
    language: LanguageCode = "ko"
    script: VideoScript
    voice: Voice = Field(default_factory=Voice)
    visual_style: VisualStyle = VisualStyle.BASIC
    size: FrameSize = "1280x720"
    subtitles: SubtitleMode = SubtitleMode.BOTH
    subtitle_style: SubtitleStyle = Field(default_factory=SubtitleStyle)
    theme: Literal["dark", "light", "brand"] = Field(
        default="dark", description="The slides' look; `brand` takes its colours from `brand`."
    )
    brand: BrandColours | None = None
    layout: Literal["headline", "bullets"] = Field(
        default="headline",
        description="`headline`: each slide shows its scene's key phrase. `bullets`: each slide adds its key "
        "phrase under the chapter's earlier ones (dimmed), so the chapter's points build up as it goes.",
    )
    title_card: bool = Field(
        default=False,
        description=(
            "Open the video with a 3-second title card (the title over the first chapter's name, as on the "
            "thumbnail), in silence, as part of the first chapter. Off by default in the contract, so a spec "
            "written before it renders as it did; the studio and `reelflow render` turn it on."
        ),
    )

    outro_text: str = Field(
        default="",
        max_length=120,
        description='End the video with a 3-second card showing this text (e.g. "Thanks for watching") over the '
        "title; empty for none.",
    )

    @model_validator(mode="after")
    def _brand_theme_has_colours(self) -> "LessonSpec":
        check_brand_theme(self.theme, self.brand)
        return self


class RankingClip(Contract):
    media_key: MediaKey = Field(
        description="A video clip, or a picture (PNG, JPEG or WebP), from POST /api/uploads. A picture moves gently "
        "(a slow zoom or pan) for the length of its window (see `end`) and has no sound of its own."
    )
    rank: int = Field(ge=1, le=100)
    label: str = ""
    start: float | None = Field(default=None, ge=0, description="Where the clip's part starts, in its seconds.")
    end: float | None = Field(
        default=None,
        gt=0,
        description="Where the clip's part ends, in its seconds; by default 8 s after `start` (or the clip's end). "
        "A picture has no time of its own: it shows for `end - start` seconds (start 0 when unset), or 8 s without "
        "`end`, from 1 to 60 s.",
    )
    keep_audio: bool = Field(default=True, description="Keep the clip's own sound (a picture has none).")
    framing: Literal["auto", "fill", "fit", "letterbox"] = Field(
        default="auto",
        description=(
            "How the clip meets the short's frame. `fill`: cropped to the frame's shape (nothing but the clip on "
            "screen, its sides cut). `fit`: the whole clip, over a blurred copy of itself that fills the frame. "
            "`letterbox`: the whole clip on black bars. "
            "`auto`: `fit` when filling would cut away more than 40% of the clip (a 16:9 clip in a 9:16 short "
            "keeps only 32% of its width), else `fill`."
        ),
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> "RankingClip":
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"clip rank {self.rank}: end ({self.end}) must be after start ({self.start})")
        return self


class RankingSpec(_SpecCommon):
    template: Literal["ranking"] = "ranking"
    clips: list[RankingClip] = Field(min_length=1, max_length=20)
    size: FrameSize = "1080x1920"
    language: LanguageCode = Field(
        default="ko",
        description='The language the labels are announced in when `voice` is set: "Number 3. {label}" in English '
        '(en…), "3위. {label}" in Korean (ko…); other languages hear the rank as a number and the label.',
    )
    voice: Voice | None = Field(
        default=None,
        description="Narrate the labels with this voice: each clip is announced as it takes over the screen (its "
        "rank, then its label), its own sound and the music ducked under the announcement. An announcement "
        "longer than its clip's time on screen is cut there with a short fade. None (default): no narration.",
    )
    title_card: bool = Field(
        default=False,
        description="Open the short with a 1.5-second card showing `title` (which must then be set), that slides "
        "into the first clip as the clips slide into each other; the music plays under it, and the clips, their "
        "sound, captions, chapters and announcements follow it. Off by default, so a spec written before renders "
        "as it did.",
    )

    @model_validator(mode="after")
    def _ranks_are_unique(self) -> "RankingSpec":
        ranks = [clip.rank for clip in self.clips]
        if len(set(ranks)) != len(ranks):
            raise ValueError(f"clips: every rank must be unique, got {sorted(ranks)}")
        return self

    @model_validator(mode="after")
    def _title_card_has_a_title(self) -> "RankingSpec":
        if self.title_card and not self.title.strip():
            raise ValueError("title_card: the card shows the short's title, so title must not be blank")
        return self


RenderSpec = Annotated[LessonSpec | RankingSpec, Field(discriminator="template")]
