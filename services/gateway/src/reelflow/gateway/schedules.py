"""Schedules (channel automation): the API's bodies and views, and the pure rules of a schedule's document.

A schedule is either a list of single items (a title with its lesson text or topic, due at a local time in its
zone) or a recurring cron cadence that takes the next title from a queue at each occurrence. At the due time the
scheduler (``scheduler``) *fires* the item: it marks it fired in the schedule's document (a compare-and-swap, so it
happens once whichever replica gets there), then asks for its script under an id derived from the schedule and
the item, so the request too is made once even when a replica dies in between and the next one completes it.

An item's status is not kept here: it is read from the ledger each time (the script request, the script, the
video's newest render job), see :func:`item_status`.
"""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from reelflow.contracts import (
    ErrorInfo,
    JobStatus,
    PublishTarget,
    RenderDefaults,
    RenderJob,
    Script,
    ScriptOptions,
    ScriptStatus,
    Step,
)
from reelflow.contracts._base import Contract
from reelflow.gateway.request_bodies import RequestBody
from reelflow.gateway.schedule_timing import cron_problem, due_epoch, local_time, next_occurrence, zone_of
from reelflow.gateway.script_commands import MAX_SOURCE_CHARS, GenerateScript
from reelflow.gateway.store import ScriptRequestRecord, ScriptRequestState

Document = dict[str, Any]
SCHEDULE_ID_PATTERN = r"^sch_[0-9a-f]{24}$"
ITEM_NAMESPACE = uuid.UUID("0d3b8f4e-51c2-4a8e-b7f1-2f6f1d9a3c55")
MAX_ITEMS = 200
MAX_QUEUE = 500
# All the lesson text one schedule holds (its items' and its queue's): a schedule is one MongoDB document.
MAX_SCHEDULE_SOURCE_CHARS = 2_000_000
EARLIEST_YEAR, LATEST_YEAR = 2000, 2199
ONE_SOURCE = "give the lesson text in source_text (the offline writer) or a topic (the LLM writer), not both"
NEEDS_SOURCE = "give the lesson text in source_text (the offline writer) or a topic for the LLM writer to write about"
# The steps of a render job as the channel operators' statuses name them. The pipeline has no separate image step:
# narration and the slides (the pictures) are made before the compose, so everything up to RENDER_SLIDES is
# "image_processing", the compose and the storing of the files "video_processing", and from the stored files to
# the end of the upload "youtube_processing".
IMAGE_STEPS = frozenset({Step.VALIDATE_SCRIPT, Step.GENERATE_TTS, Step.GENERATE_SUBTITLE, Step.RENDER_SLIDES})


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


# ---- the document ------------------------------------------------------------------------------------------------
def new_schedule_id() -> str:
    return f"sch_{uuid.uuid4().hex[:24]}"


def script_id_of(schedule_id: str, item_id: str) -> str:
    """The script an item asks for, derived from the schedule and the item so asking twice is asking once."""
    return uuid.uuid5(ITEM_NAMESPACE, f"{schedule_id}/{item_id}").hex


def video_id_of(schedule_id: str, item_id: str) -> str:
    return f"{schedule_id}.{item_id}"


def _title_document(title: QueuedTitle) -> Document:
    return {"title": title.title, "source_text": title.source_text, "topic": title.topic}


def item_document(item: NewItem, default_zone: str) -> Document:
    zone = item.timezone or default_zone
    local = item.due_at if item.due_at.tzinfo is None else item.due_at.astimezone(zone_of(zone))
    return {
        "item_id": uuid.uuid4().hex[:12],
        **_title_document(item),
        "due_local": local.replace(tzinfo=None).isoformat(timespec="minutes"),
        "timezone": zone,
        "due_at": due_epoch(item.due_at, zone),
        "fired_at": None,
        "open": False,
        "job_id": None,
        "error": None,
    }


def new_schedule_document(body: NewSchedule, workspace_id: str, now: float) -> Document:
    kind = ScheduleKind.RECURRING if body.cron is not None else ScheduleKind.ITEMS
    document: Document = {
        "workspace_id": workspace_id,
        "name": body.name,
        "kind": kind.value,
        "timezone": body.timezone,
        "cron": body.cron,
        "enabled": body.enabled,
        "auto_approve": body.auto_approve,
        "options": body.options.model_dump(mode="json"),
        "render": body.render.model_dump(mode="json"),
        "publish": body.publish.model_dump(mode="json") if body.publish else None,
        "queue": [_title_document(title) for title in body.queue],
        "items": [item_document(item, body.timezone) for item in body.items],
        "next_occurrence_at": next_occurrence(body.cron, body.timezone, now) if body.cron else None,
        "created_at": now,
        "updated_at": now,
    }
    return with_due_marks(document)


def with_due_marks(document: Document) -> Document:
    """The document with the fields the scheduler queries by: ``waiting`` (something will fire) and
    ``next_due_at`` (when), and ``open`` (a fired item still needs the scheduler: its request or its render)."""
    dues = [item["due_at"] for item in document["items"] if item["fired_at"] is None]
    if document.get("next_occurrence_at") is not None:
        dues.append(document["next_occurrence_at"])
    waiting = bool(document["enabled"]) and bool(dues)
    return {
        **document,
        "waiting": waiting,
        "next_due_at": min(dues) if dues else 0.0,
        "open": any(item["open"] for item in document["items"]),
    }


def fired(document: Document, now: float) -> Document | None:
    """The document with every item due at ``now`` marked fired, or None when nothing is due.

    A recurring schedule fires at most once per call however many occurrences passed (a gateway that was down
    fires a missed cadence once), taking the next queued title; an occurrence with an empty queue only moves on.
    """
    if not document["enabled"]:
        return None
    items = [dict(item) for item in document["items"]]
    changed = False
    for item in items:
        if item["fired_at"] is None and item["due_at"] <= now:
            item.update(fired_at=now, open=True)
            changed = True
    queue = list(document["queue"])
    occurrence = document.get("next_occurrence_at")
    next_at = occurrence
    if document["cron"] and occurrence is not None and occurrence <= now:
        changed = True
        next_at = next_occurrence(document["cron"], document["timezone"], now)
        if queue:
            title = queue.pop(0)
            zone = document["timezone"]
            items.append(
                {
                    "item_id": f"r{int(occurrence)}",
                    **title,
                    "due_local": local_time(occurrence, zone).replace(tzinfo=None).isoformat(timespec="minutes"),
                    "timezone": zone,
                    "due_at": occurrence,
                    "fired_at": now,
                    "open": True,
                    "job_id": None,
                    "error": None,
                }
            )
    if not changed:
        return None
    return with_due_marks({**document, "items": items, "queue": queue, "next_occurrence_at": next_at})


def with_item(document: Document, item_id: str, changes: Document) -> Document:
    items = [{**item, **changes} if item["item_id"] == item_id else item for item in document["items"]]
    return with_due_marks({**document, "items": items})


def changed_schedule(document: Document, change: ScheduleChange, now: float) -> Document:
    """The document after a PATCH; refusals are ValueErrors naming the field (``field: problem``)."""
    recurring = document["kind"] == ScheduleKind.RECURRING
    given = change.model_fields_set
    updated = dict(document)
    for name in ("name", "enabled", "auto_approve"):
        if name in given and getattr(change, name) is not None:
            updated[name] = getattr(change, name)
    if "options" in given and change.options is not None:
        updated["options"] = change.options.model_dump(mode="json")
    if "render" in given and change.render is not None:
        updated["render"] = change.render.model_dump(mode="json")
    if "publish" in given:
        updated["publish"] = change.publish.model_dump(mode="json") if change.publish else None
    if "timezone" in given and change.timezone is not None:
        updated["timezone"] = change.timezone
    if not recurring and (change.cron is not None or change.queue is not None):
        raise ValueError("cron: this schedule is single items; make a recurring schedule for a cadence")
    if recurring and (change.add_items or change.remove_items):
        raise ValueError("add_items: this schedule is a cron cadence; change its queue instead")
    if change.cron is not None:
        updated["cron"] = change.cron
    if change.queue is not None:
        updated["queue"] = [_title_document(title) for title in change.queue]
    if recurring and {"cron", "timezone", "enabled"} & given:
        # The cadence starts again from now: a new cadence (or a paused one) fires nothing it would have earlier.
        updated["next_occurrence_at"] = next_occurrence(updated["cron"], updated["timezone"], now)
    items = list(document["items"])
    if change.remove_items:
        known = {item["item_id"]: item for item in items}
        for item_id in change.remove_items:
            if item_id not in known:
                raise ValueError(f"remove_items: the schedule has no item {item_id!r}")
            if known[item_id]["fired_at"] is not None:
                raise ValueError(f"remove_items: item {item_id!r} has fired already; its video stays in the library")
        items = [item for item in items if item["item_id"] not in set(change.remove_items)]
    if len(items) + len(change.add_items) > MAX_ITEMS:
        raise ValueError(f"add_items: a schedule holds at most {MAX_ITEMS} items")
    items += [item_document(item, updated["timezone"]) for item in change.add_items]
    if source_chars([*items, *updated["queue"]]) > MAX_SCHEDULE_SOURCE_CHARS:
        raise ValueError(f"add_items: {TOO_MUCH_TEXT}")
    return with_due_marks({**updated, "items": items, "updated_at": now})


# ---- what firing asks for ----------------------------------------------------------------------------------------
def render_defaults_of(document: Document, item: Document) -> RenderDefaults:
    """How the item's video is rendered, with its YouTube target (its release from the item's due time)."""
    render = RenderDefaults.model_validate(document["render"])
    plan = document.get("publish")
    if plan is None:
        return render
    target = PublishPlan.model_validate(plan).target_for(item["title"], item["due_at"])
    return render.model_copy(update={"publish": target})


def script_request_of(document: Document, item: Document) -> GenerateScript:
    """The script request an item makes: from its lesson text, or (the LLM writer) about its topic."""
    topic = item.get("topic") or ""
    return GenerateScript(
        source_text=item.get("source_text") or "",
        title=topic if topic and not (item.get("source_text") or "").strip() else item["title"],
        options=ScriptOptions.model_validate(document["options"]),
        auto_render=bool(document["auto_approve"]),
        render_defaults=render_defaults_of(document, item),
    )


# ---- what an item shows ------------------------------------------------------------------------------------------
def item_status(
    item: Document, request: ScriptRequestRecord | None, script: Script | None, job: RenderJob | None
) -> tuple[ItemStatus, ItemError | None]:
    """An item's status, read from the ledger: its script request, its script and its video's newest job."""
    if item["fired_at"] is None:
        return ItemStatus.SCHEDULED, None
    if item.get("error"):
        return ItemStatus.FAILED, ItemError.model_validate(item["error"])
    if job is not None:
        return _job_status(job)
    if script is not None:
        if script.status == ScriptStatus.DRAFT:
            return ItemStatus.WAITING_REVIEW, None
        if script.status == ScriptStatus.ARCHIVED:
            return ItemStatus.FAILED, ItemError(code="ARCHIVED", message="the script was archived before it rendered")
        return ItemStatus.IMAGE_PROCESSING, None  # approved: its render job is being started
    if request is not None and request.state == ScriptRequestState.FAILED:
        return ItemStatus.FAILED, _error_of(request.error, "the script could not be written")
    return ItemStatus.SCRIPT_PROCESSING, None


def _job_status(job: RenderJob) -> tuple[ItemStatus, ItemError | None]:
    if job.status == JobStatus.COMPLETED:
        return ItemStatus.COMPLETED, None
    if job.status in (JobStatus.FAILED, JobStatus.CANCELED):
        return ItemStatus.FAILED, _error_of(job.error, f"the render job {job.status.value.lower()}")
    publishing = job.spec is not None and job.spec.publish is not None
    # Once its files are stored (it has assets), all a publishing job has left is the upload.
    if job.step == Step.PUBLISH or (publishing and (job.assets or job.step == Step.FINALIZE)):
        return ItemStatus.YOUTUBE_PROCESSING, None
    if job.step is None or job.step in IMAGE_STEPS:
        return ItemStatus.IMAGE_PROCESSING, None
    return ItemStatus.VIDEO_PROCESSING, None


def _error_of(error: ErrorInfo | None, fallback: str) -> ItemError:
    if error is None:
        return ItemError(code="FAILED", message=fallback)
    return ItemError(code=error.code.value, message=error.message)


def item_view(
    schedule_id: str,
    item: Document,
    request: ScriptRequestRecord | None,
    script: Script | None,
    job: RenderJob | None,
) -> ItemView:
    status, error = item_status(item, request, script, job)
    fired_at = item["fired_at"]
    url = next((publication.url for publication in job.publications if publication.url), None) if job else None
    return ItemView(
        item_id=item["item_id"],
        title=item["title"],
        topic=item.get("topic") or "",
        source_chars=len(item.get("source_text") or ""),
        due_at=datetime.fromtimestamp(item["due_at"], UTC),
        due_local=item["due_local"],
        timezone=item["timezone"],
        status=status,
        fired_at=datetime.fromtimestamp(fired_at, UTC) if fired_at is not None else None,
        video_id=video_id_of(schedule_id, item["item_id"]) if fired_at is not None else None,
        script_id=script_id_of(schedule_id, item["item_id"]) if fired_at is not None else None,
        job_id=job.job_id if job is not None else item.get("job_id"),
        published_url=url,
        error=error,
    )


def schedule_view(document: Document, items: list[ItemView]) -> ScheduleView:
    publish = document.get("publish")
    return ScheduleView(
        schedule_id=document["_id"],
        name=document["name"],
        kind=ScheduleKind(document["kind"]),
        timezone=document["timezone"],
        cron=document.get("cron"),
        enabled=document["enabled"],
        auto_approve=document["auto_approve"],
        options=ScriptOptions.model_validate(document["options"]),
        render=RenderDefaults.model_validate(document["render"]),
        publish=PublishPlan.model_validate(publish) if publish else None,
        next_due_at=datetime.fromtimestamp(document["next_due_at"], UTC) if document["waiting"] else None,
        queue=[QueuedTitle.model_validate(title) for title in document["queue"]],
        items=items,
        created_at=datetime.fromtimestamp(document["created_at"], UTC),
        updated_at=datetime.fromtimestamp(document["updated_at"], UTC),
    )
