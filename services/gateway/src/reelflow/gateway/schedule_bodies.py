"""Schedules' REST shapes: the bodies that make and change a schedule, checked as they arrive (IANA zones, cron
cadences, one source per title, a plausible due time), and the views GET answers with."""

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from reelflow.contracts import PublishTarget, RenderDefaults, ScriptOptions
from reelflow.contracts._base import Contract
from reelflow.gateway.request_bodies import RequestBody
from reelflow.gateway.schedule_timing import cron_problem, zone_of
from reelflow.gateway.script_commands import MAX_SOURCE_CHARS

Document = dict[str, Any]
SCHEDULE_ID_PATTERN = r"^sch_[0-9a-f]{24}$"
MAX_ITEMS = 200
MAX_QUEUE = 500
# All the lesson text one schedule holds (its items' and its queue's): a schedule is one MongoDB document.
MAX_SCHEDULE_SOURCE_CHARS = 2_000_000
EARLIEST_YEAR, LATEST_YEAR = 2000, 2199
ONE_SOURCE = "give the lesson text in source_text (the offline writer) or a topic (the LLM writer), not both"
NEEDS_SOURCE = "give the lesson text in source_text (the offline writer) or a topic for the LLM writer to write about"


class ScheduleKind(StrEnum):
    ITEMS = "items"
    RECURRING = "recurring"


class ItemStatus(StrEnum):
    SCHEDULED = "scheduled"
    SCRIPT_PROCESSING = "script_processing"
    WAITING_REVIEW = "waiting_review"
    IMAGE_PROCESSING = "image_processing"
    VIDEO_PROCESSING = "video_processing"
    YOUTUBE_PROCESSING = "youtube_processing"
    COMPLETED = "completed"
    FAILED = "failed"


def _checked_zone(name: str) -> str:
    zone_of(name)
    return name


def _checked_cron(expression: str) -> str:
    problem = cron_problem(expression)
    if problem is not None:
        raise ValueError(problem)
    return " ".join(expression.split())


def _render_without_publish(render: RenderDefaults) -> RenderDefaults:
    if render.publish is not None:
        raise ValueError("set publishing in the schedule's `publish` (its release follows each item's due time)")
    return render


class QueuedTitle(RequestBody):
    """A title to make a video of, with the lesson text or the topic its script is written from."""

    title: str = Field(min_length=1, max_length=200, description="The video's title (and its YouTube title).")
    source_text: str = Field(
        default="", max_length=MAX_SOURCE_CHARS, description="The lesson; its script is written by the offline writer."
    )
    topic: str = Field(
        default="",
        max_length=500,
        description="What the LLM writer writes about when there is no lesson text (needs REELFLOW_LLM_BASE_URL "
        "and REELFLOW_LLM_MODEL on the script service; without them the item fails with LLM_FAILED).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> "QueuedTitle":
        if self.source_text.strip() and self.topic.strip():
            raise ValueError(ONE_SOURCE)
        if not self.source_text.strip() and not self.topic.strip():
            raise ValueError(NEEDS_SOURCE)
        return self


class NewItem(QueuedTitle):
    """A single item: a title due at a local date-time in an IANA zone."""

    due_at: datetime = Field(
        description="The local date-time it is due (e.g. 2026-12-01T09:00), in `timezone`; with an offset it is "
        "taken as that instant."
    )
    timezone: str | None = Field(
        default=None, description="IANA zone of `due_at` (e.g. Asia/Seoul); by default the schedule's."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _checked_zone(value)

    @field_validator("due_at")
    @classmethod
    def _plausible_year(cls, value: datetime) -> datetime:
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise ValueError(f"must be a date-time between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
        return value


def source_chars(titles: Iterable[QueuedTitle | Document]) -> int:
    return sum(
        len(title.source_text if isinstance(title, QueuedTitle) else title.get("source_text") or "") for title in titles
    )


TOO_MUCH_TEXT = f"a schedule holds at most {MAX_SCHEDULE_SOURCE_CHARS} characters of lesson text in all"


class PublishPlan(RequestBody):
    """Where each item's video is published: YouTube, with its privacy and an optional scheduled release."""

    privacy: Literal["public", "unlisted", "private"] = "private"
    release_after_minutes: int | None = Field(
        default=None,
        ge=0,
        le=366 * 24 * 60,
        description="Schedule the release (YouTube `publishAt`) this many minutes after the item's due time (0: at "
        "the due time); the video stays private until then. A release time already past when the upload ends is "
        "published at once. None: no scheduled release, `privacy` applies.",
    )
    description: str = Field(default="", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    category_id: str | None = Field(default=None, pattern=r"^\d{1,3}$")
    made_for_kids: bool = False
    channel_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{3,64}$",
        description="A YouTube channel the workspace connected (GET /api/channels); null: the install's own, or the "
        "workspace's only one.",
    )

    def target_for(self, title: str, due_at: float) -> PublishTarget:
        release = None
        if self.release_after_minutes is not None:
            release = datetime.fromtimestamp(due_at + self.release_after_minutes * 60, UTC)
        return PublishTarget(
            title=title,
            description=self.description,
            tags=self.tags,
            privacy=self.privacy,
            publish_at=release,
            category_id=self.category_id,
            made_for_kids=self.made_for_kids,
            channel_id=self.channel_id,
        )


RENDER_DESCRIPTION = (
    "How each item is rendered (size, fps, voice, style, subtitles, music), as a render job's options; publishing "
    "is set in `publish`, not here."
)


class _ScheduleSettings(RequestBody):
    auto_approve: bool = Field(
        default=False,
        description="Approve each written script and render it at once; false: it waits for review "
        "(POST /api/scripts/{id}/approve) and is rendered when approved.",
    )
    options: ScriptOptions = Field(default_factory=ScriptOptions, description="How the scripts are written.")
    render: RenderDefaults = Field(default_factory=RenderDefaults, description=RENDER_DESCRIPTION)
    publish: PublishPlan | None = Field(default=None, description="Upload each video to YouTube; none: no upload.")

    @field_validator("render")
    @classmethod
    def _publish_is_its_own_field(cls, render: RenderDefaults) -> RenderDefaults:
        return _render_without_publish(render)


class NewSchedule(_ScheduleSettings):
    """Body of ``POST /api/schedules``: `items`, or `cron` with a `queue`."""

    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", description="IANA zone of the cron cadence and of items that name none.")
    items: list[NewItem] = Field(default_factory=list, max_length=MAX_ITEMS, description="Single items.")
    cron: str | None = Field(
        default=None,
        description="A 5-field cron cadence in `timezone` (e.g. `0 9 * * 1-5`); each occurrence takes the next "
        "title of `queue`. An occurrence missed while no gateway ran fires once, at start.",
    )
    queue: list[QueuedTitle] = Field(default_factory=list, max_length=MAX_QUEUE)
    enabled: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _checked_zone(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        return None if value is None else _checked_cron(value)

    @model_validator(mode="after")
    def _items_or_cadence(self) -> "NewSchedule":
        if self.cron is None and not self.items:
            raise ValueError("give single `items`, or a `cron` cadence with a `queue` of titles")
        if self.cron is not None and self.items:
            raise ValueError("a schedule is single `items` or a `cron` cadence with a `queue`, not both")
        if self.cron is None and self.queue:
            raise ValueError("a `queue` needs a `cron` cadence to take its titles")
        if source_chars([*self.items, *self.queue]) > MAX_SCHEDULE_SOURCE_CHARS:
            raise ValueError(TOO_MUCH_TEXT)
        return self


class ScheduleChange(RequestBody):
    """Body of ``PATCH /api/schedules/{id}``: only the fields given change (`publish: null` stops publishing)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None
    auto_approve: bool | None = None
    options: ScriptOptions | None = None
    render: RenderDefaults | None = None
    publish: PublishPlan | None = None
    timezone: str | None = None
    cron: str | None = Field(default=None, description="A new cadence (recurring schedules only).")
    queue: list[QueuedTitle] | None = Field(
        default=None, max_length=MAX_QUEUE, description="Replaces the titles still waiting (recurring schedules)."
    )
    add_items: list[NewItem] = Field(default_factory=list, max_length=MAX_ITEMS, description="More single items.")
    remove_items: list[str] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Ids of items not fired yet, to drop."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _checked_zone(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        return None if value is None else _checked_cron(value)

    @field_validator("render")
    @classmethod
    def _publish_is_its_own_field(cls, render: RenderDefaults | None) -> RenderDefaults | None:
        return None if render is None else _render_without_publish(render)


class ItemError(Contract):
    code: str
    message: str


class ItemView(Contract):
    item_id: str
    title: str
    topic: str = ""
    source_chars: int = Field(description="Length of the lesson text (0 for a topic).")
    due_at: datetime = Field(description="The instant it is due (UTC).")
    due_local: str = Field(description="The due time as planned: the local date-time in `timezone`.")
    timezone: str
    status: ItemStatus
    fired_at: datetime | None = None
    video_id: str | None = None
    script_id: str | None = None
    job_id: str | None = None
    published_url: str | None = None
    error: ItemError | None = None


class ScheduleView(Contract):
    schedule_id: str
    name: str
    kind: ScheduleKind
    timezone: str
    cron: str | None = None
    enabled: bool
    auto_approve: bool
    options: ScriptOptions
    render: RenderDefaults
    publish: PublishPlan | None = None
    next_due_at: datetime | None = Field(default=None, description="When the scheduler fires next (UTC).")
    queue: list[QueuedTitle] = Field(default_factory=list, description="Titles still waiting for an occurrence.")
    items: list[ItemView]
    created_at: datetime
    updated_at: datetime
