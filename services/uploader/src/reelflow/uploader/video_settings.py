"""The YouTube ``video`` resource a publish target asks for: snippet and status, checked against YouTube's limits.

Pure functions: the upload sends what :func:`video_resource` returns, and the tests assert on it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reelflow.contracts import LessonSpec, PublishTarget, RenderSpec

# YouTube's documented limits on the video resource (videos.insert rejects anything longer with a 400).
TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500
FORBIDDEN_CHARACTERS = ("<", ">")
# A scheduled release this close (or already past) is released at once: YouTube refuses a publishAt in the past,
# and the upload plus processing would overtake it anyway.
SCHEDULE_MARGIN_SEC = 60


@dataclass(frozen=True)
class VideoSettings:
    """What is sent to YouTube for one job, decided before any byte goes up."""

    resource: dict[str, Any]
    caption_language: str | None


def youtube_description(description: str, chapters_txt: str | None) -> str:
    """The target's description with the job's chapter timestamps after it, which YouTube turns into chapters."""
    chapters = (chapters_txt or "").strip()
    text = description.strip()
    if not chapters:
        return text
    return f"{text}\n\n{chapters}" if text else chapters


def tags_length(tags: list[str]) -> int:
    """Length as YouTube counts it: commas between tags, and quotes around a tag with a space in it."""
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(0, len(tags) - 1)


def release_status(target: PublishTarget, *, now: datetime) -> dict[str, Any]:
    """``status`` of the video: a scheduled release is private until ``publishAt`` (YouTube requires it); a
    schedule that is already due is released as public at once, as it would have been at its time."""
    status: dict[str, Any] = {"selfDeclaredMadeForKids": target.made_for_kids}
    publish_at = target.publish_at
    if publish_at is None:
        status["privacyStatus"] = target.privacy
        return status
    if publish_at.tzinfo is None:
        publish_at = publish_at.replace(tzinfo=UTC)
    if (publish_at - now).total_seconds() <= SCHEDULE_MARGIN_SEC:
        status["privacyStatus"] = "public"
        return status
    status["privacyStatus"] = "private"
    status["publishAt"] = publish_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return status


def video_language(target: PublishTarget, spec: RenderSpec) -> str | None:
    if target.default_language:
        return target.default_language
    return spec.language if isinstance(spec, LessonSpec) else None


def setting_problems(snippet: dict[str, Any]) -> list[str]:
    """What YouTube would reject in the snippet, each said so that a person can fix ``spec.publish``."""
    problems = []
    title, description, tags = snippet["title"], snippet["description"], snippet.get("tags", [])
    if len(title) > TITLE_MAX_CHARS:
        problems.append(f"the title has {len(title)} characters; YouTube allows {TITLE_MAX_CHARS}")
    described = len(description.encode())
    if described > DESCRIPTION_MAX_BYTES:
        problems.append(
            f"the description with the chapter list is {described} bytes; YouTube allows {DESCRIPTION_MAX_BYTES} "
            "(shorten spec.publish.description)"
        )
    if tags_length(tags) > TAGS_MAX_CHARS:
        problems.append(f"the tags come to {tags_length(tags)} characters; YouTube allows {TAGS_MAX_CHARS}")
    for name, text in (("title", title), ("description", description), *(("tag", tag) for tag in tags)):
        if any(character in text for character in FORBIDDEN_CHARACTERS):
            problems.append(f"the {name} {text[:40]!r} contains < or >, which YouTube does not accept")
    return problems


def video_settings(
    target: PublishTarget,
    spec: RenderSpec,
    *,
    chapters_txt: str | None,
    default_category_id: str,
    now: datetime,
) -> VideoSettings:
    snippet: dict[str, Any] = {
        "title": target.title,
        "description": youtube_description(target.description, chapters_txt),
        "categoryId": target.category_id or default_category_id,
    }
    if target.tags:
        snippet["tags"] = list(target.tags)
    language = video_language(target, spec)
    if language:
        snippet["defaultLanguage"] = language
        snippet["defaultAudioLanguage"] = language
    return VideoSettings(
        resource={"snippet": snippet, "status": release_status(target, now=now)},
        caption_language=language,
    )
