"""Every event on the bus: its body model, its subject and its CloudEvents type, declared once."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from reelflow.contracts._base import Contract
from reelflow.contracts.errors import ErrorInfo
from reelflow.contracts.jobs import Asset, JobStatus, Publication, Step
from reelflow.contracts.scripts import NonBlank, Script, ScriptOptions
from reelflow.contracts.specs import (
    BrandColours,
    FrameRate,
    FrameSize,
    HttpUrlText,
    MusicTrack,
    PublishTarget,
    RenderSpec,
    SubtitleMode,
    SubtitleStyle,
    VisualStyle,
    Voice,
    check_brand_theme,
)

STREAM_NAME = "REELFLOW"
# The stream stores rf.> minus progress: progress is core NATS only, high-rate and worthless once stale.
STREAM_SUBJECTS = ("rf.script.>", "rf.render.>", "rf.dlq.>")
PROGRESS_SUBJECT_PREFIX = "rf.progress"
DLQ_SUBJECT_PREFIX = "rf.dlq"
EVENT_SOURCE_PREFIX = "reelflow"


class Event(Contract):
    """An event body. ``subject`` and ``event_type`` are fixed per class; the key makes publishing idempotent."""

    subject: ClassVar[str]
    event_type: ClassVar[str]

    def subject_name(self) -> str:
        return self.subject

    def ce_subject(self) -> str:
        """The entity the event is about: a job_id or a script_id."""
        raise NotImplementedError

    def idempotency_key(self) -> str:
        """``Nats-Msg-Id``: JetStream drops a second publish with the same key inside its duplicate window."""
        raise NotImplementedError


class JobEvent(Event):
    job_id: NonBlank
    video_id: NonBlank
    script_id: str | None = None
    attempt: int = Field(default=1, ge=1)

    def ce_subject(self) -> str:
        return self.job_id

    def idempotency_key(self) -> str:
        return f"{self.job_id}:{self.attempt}:{self.event_type}"


class RenderDefaults(Contract):
    """How a script's video should be rendered when the script request asks for ``auto_render``."""

    voice: Voice = Field(default_factory=Voice)
    visual_style: VisualStyle = VisualStyle.BASIC
    size: FrameSize = "1280x720"
    fps: FrameRate = 30
    subtitles: SubtitleMode = SubtitleMode.BOTH
    subtitle_style: SubtitleStyle = Field(default_factory=SubtitleStyle)
    theme: Literal["dark", "light", "brand"] = "dark"
    brand: BrandColours | None = None
    layout: Literal["headline", "bullets"] = "headline"
    title_card: bool = Field(default=False, description="Open the video with a 3-second title card.")
    outro_text: str = Field(default="", max_length=120, description="End with a 3-second card showing this text.")
    music: MusicTrack | None = Field(default=None, description="Background music uploaded with POST /api/uploads.")
    publish: PublishTarget | None = None
    callback_url: HttpUrlText | None = None

    @model_validator(mode="after")
    def _brand_theme_has_colours(self) -> "RenderDefaults":
        check_brand_theme(self.theme, self.brand)
        return self


class ScriptRequested(Event):
    subject: ClassVar[str] = "rf.script.requested"
    event_type: ClassVar[str] = "reelflow.script.requested.v1"

    video_id: NonBlank
    script_id: NonBlank
    title: str = ""
    source_text: str = ""
    options: ScriptOptions = Field(default_factory=ScriptOptions)
    auto_render: bool = False
    render_defaults: RenderDefaults | None = None

    @model_validator(mode="after")
    def _needs_text_or_title(self) -> "ScriptRequested":
        if not self.source_text.strip() and not self.title.strip():
            raise ValueError("source_text: give the lesson text (or at least a title for a topic-only script)")
        return self

    def ce_subject(self) -> str:
        return self.script_id

    def idempotency_key(self) -> str:
        return f"{self.script_id}:1:{self.event_type}"


class ScriptGenerated(Event):
    subject: ClassVar[str] = "rf.script.generated"
    event_type: ClassVar[str] = "reelflow.script.generated.v1"

    script: Script
    auto_render: bool = False
    render_defaults: RenderDefaults | None = None

    def ce_subject(self) -> str:
        return self.script.script_id

    def idempotency_key(self) -> str:
        return f"{self.script.script_id}:{self.script.version}:{self.event_type}"


class ScriptFailed(Event):
    subject: ClassVar[str] = "rf.script.failed"
    event_type: ClassVar[str] = "reelflow.script.failed.v1"

    video_id: NonBlank
    script_id: NonBlank
    error: ErrorInfo

    def ce_subject(self) -> str:
        return self.script_id

    def idempotency_key(self) -> str:
        return f"{self.script_id}:1:{self.event_type}"


class RenderRequested(JobEvent):
    subject: ClassVar[str] = "rf.render.requested"
    event_type: ClassVar[str] = "reelflow.render.requested.v1"

    spec: RenderSpec


class SceneNarration(Contract):
    """One narrated piece: a lesson's scene, or the announcement of a ranking short's clip."""

    scene_id: NonBlank = Field(
        description="The scene's scene_id; for a ranking short's announcement, `rank-N` (see announcement_id)."
    )
    audio_key: NonBlank
    duration_sec: float = Field(gt=0)


def announcement_id(rank: int) -> str:
    """The ``scene_id`` under which a ranking short's clip of rank ``rank`` has its announcement narrated."""
    return f"rank-{rank}"


class RenderNarrated(JobEvent):
    subject: ClassVar[str] = "rf.render.narrated"
    event_type: ClassVar[str] = "reelflow.render.narrated.v1"

    spec: RenderSpec
    narration: list[SceneNarration]


class ComposedFile(Contract):
    """Size and SHA-256 of one composed output as compose wrote it, so storage can copy it without reading it."""

    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ComposedOutputs(Contract):
    """Scratch keys (bucket reelflow-work) of what compose produced.

    ``files`` describes each output by its scratch key. It is optional: an output it does not describe is
    read back and hashed by storage.
    """

    video: NonBlank
    thumbnail: NonBlank
    subtitles_srt: str | None = None
    subtitles_vtt: str | None = None
    chapters: str | None = None
    files: dict[str, ComposedFile] = Field(default_factory=dict)


class RenderComposed(JobEvent):
    subject: ClassVar[str] = "rf.render.composed"
    event_type: ClassVar[str] = "reelflow.render.composed.v1"

    spec: RenderSpec
    outputs: ComposedOutputs
    duration_sec: float = Field(gt=0)


class RenderStored(JobEvent):
    subject: ClassVar[str] = "rf.render.stored"
    event_type: ClassVar[str] = "reelflow.render.stored.v1"

    spec: RenderSpec
    assets: list[Asset]
    duration_sec: float = Field(gt=0)


class RenderPublished(JobEvent):
    subject: ClassVar[str] = "rf.render.published"
    event_type: ClassVar[str] = "reelflow.render.published.v1"

    platform: str
    external_id: str
    url: str


class RenderCompleted(JobEvent):
    subject: ClassVar[str] = "rf.render.completed"
    event_type: ClassVar[str] = "reelflow.render.completed.v1"

    status: JobStatus = JobStatus.COMPLETED
    assets: list[Asset] = Field(
        description="Every stored file; each `url` is where a client outside the cluster downloads it (the "
        "gateway's GET /api/assets/{job_id}/{kind}, with the caller's credentials)."
    )
    publications: list[Publication] = Field(default_factory=list)
    duration_sec: float | None = None
    script_version: int | None = Field(
        default=None, ge=1, description="The version of the script the job rendered, when the gateway knows it."
    )


class RenderFailed(Event):
    """A job step failed for good. ``video_id`` is unknown only when the failing message was unreadable."""

    subject: ClassVar[str] = "rf.render.failed"
    event_type: ClassVar[str] = "reelflow.render.failed.v1"

    job_id: NonBlank
    video_id: str | None = None
    attempt: int = Field(default=1, ge=1)
    error: ErrorInfo

    def ce_subject(self) -> str:
        return self.job_id

    def idempotency_key(self) -> str:
        return f"{self.job_id}:{self.attempt}:{self.event_type}"


class RenderCancel(Event):
    subject: ClassVar[str] = "rf.render.cancel"
    event_type: ClassVar[str] = "reelflow.render.cancel.v1"

    job_id: NonBlank
    attempt: int = Field(default=1, ge=1)
    reason: str = "canceled by request"

    def ce_subject(self) -> str:
        return self.job_id

    def idempotency_key(self) -> str:
        return f"{self.job_id}:{self.attempt}:{self.event_type}"


class ProgressUpdate(Event):
    """Live progress on core NATS (``rf.progress.<job_id>``); not stored, so it never has to be replayed."""

    subject: ClassVar[str] = PROGRESS_SUBJECT_PREFIX
    event_type: ClassVar[str] = "reelflow.progress.v1"

    job_id: NonBlank
    attempt: int = Field(default=1, ge=1)
    step: Step
    progress: int = Field(ge=0, le=100)
    message: str = ""
    at: datetime

    def subject_name(self) -> str:
        return f"{PROGRESS_SUBJECT_PREFIX}.{self.job_id}"

    def ce_subject(self) -> str:
        return self.job_id

    def idempotency_key(self) -> str:
        return f"{self.job_id}:{self.attempt}:{self.event_type}:{self.progress}:{self.at.isoformat()}"


class DeadLetter(Event):
    """A message a service gave up on, kept with the reason so an operator can inspect or replay it."""

    subject: ClassVar[str] = DLQ_SUBJECT_PREFIX
    event_type: ClassVar[str] = "reelflow.dlq.v1"

    service: NonBlank
    original_subject: str
    original_msg_id: str | None = None
    job_id: str | None = None
    delivered: int = Field(ge=0)
    error: ErrorInfo
    payload: str
    received_at: datetime

    def subject_name(self) -> str:
        return f"{DLQ_SUBJECT_PREFIX}.{self.service}"

    def ce_subject(self) -> str:
        return self.job_id or self.original_subject

    def idempotency_key(self) -> str:
        return f"{self.service}:{self.original_msg_id or self.received_at.isoformat()}:{self.event_type}"


STORED_EVENTS: tuple[type[Event], ...] = (
    ScriptRequested,
    ScriptGenerated,
    ScriptFailed,
    RenderRequested,
    RenderNarrated,
    RenderComposed,
    RenderStored,
    RenderPublished,
    RenderCompleted,
    RenderFailed,
    RenderCancel,
)
ALL_EVENTS: tuple[type[Event], ...] = (*STORED_EVENTS, ProgressUpdate, DeadLetter)
