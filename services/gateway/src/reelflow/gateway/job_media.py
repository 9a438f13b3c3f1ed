"""Before a job starts: every clip, the music, each scene's uploaded picture or video and the brand logo name uploads
in the media bucket, of the right kind (clips are videos or pictures, music is sound, a scene's visual a picture or a
video, a logo a picture).

Checking here, rather than letting compose find out, answers the caller at once and lists every bad input. Only
keys ``POST /api/uploads`` hands out (``uploads/{sha256}.{ext}``) are looked up at all, so no caller-made key
(``..``, control characters) ever reaches the S3 client.
"""

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from reelflow.contracts import BrandColours, MusicTrack, RankingSpec, VideoScript
from reelflow.contracts.upload_keys import UPLOAD_KEY_PATTERN
from reelflow.gateway.refusals import DependencyUnavailableError, InvalidRequestError
from reelflow.runtime.blobs import BlobInfo, BlobStore
from reelflow.runtime.failures import StorageUploadError

NOT_UPLOADED = (
    "nothing is stored under this key; upload the file with POST /api/uploads and use the media_key it returns"
)
NOT_AN_UPLOAD_KEY = (
    "this is not a media_key from POST /api/uploads (uploads/{sha256}.{ext}); upload the file and use the key "
    "it returns"
)
_UPLOAD_KEY = re.compile(UPLOAD_KEY_PATTERN)


def is_upload_key(key: str) -> bool:
    return _UPLOAD_KEY.fullmatch(key) is not None


@dataclass(frozen=True)
class MediaProblem:
    field: str
    media_key: str
    problem: str
    rank: int | None = None
    label: str | None = None

    def describe(self) -> str:
        if self.rank is None:
            return f"music ({self.media_key})"
        label = f" {self.label.strip()!r}" if self.label and self.label.strip() else ""
        return f"clip #{self.rank}{label} ({self.media_key})"


def media_keys(spec: RankingSpec) -> list[str]:
    """The upload keys the spec names, each once (a key that is not an upload key is never looked up)."""
    keys = [clip.media_key for clip in spec.clips] + ([spec.music.media_key] if spec.music else [])
    return [key for key in dict.fromkeys(keys) if is_upload_key(key)]


def missing_upload_problem(key: str) -> str:
    """Why ``key`` cannot be used: nothing is uploaded under it, or it is not an upload key at all."""
    return NOT_UPLOADED if is_upload_key(key) else NOT_AN_UPLOAD_KEY


def media_problems(spec: RankingSpec, stored: Mapping[str, BlobInfo | None]) -> list[MediaProblem]:
    """What is wrong with the spec's media, given what the bucket holds under each key (None: nothing)."""
    problems: list[MediaProblem] = []
    for index, clip in enumerate(spec.clips):
        found = stored.get(clip.media_key)
        if found is None:
            problem = missing_upload_problem(clip.media_key)
        elif found.content_type.startswith("audio/"):
            problem = (
                f"it is an audio upload ({found.content_type}); a clip needs a video or a picture, use it as the "
                "music instead"
            )
        else:  # a video, or a picture, which compose shows for its window with a slow zoom or pan
            continue
        problems.append(
            MediaProblem(f"clips.{index}.media_key", clip.media_key, problem, rank=clip.rank, label=clip.label)
        )
    if spec.music is not None and (wrong := music_problem(spec.music.media_key, stored)) is not None:
        problems.append(MediaProblem("music.media_key", spec.music.media_key, wrong))
    return problems


def music_problem(key: str, stored: Mapping[str, BlobInfo | None]) -> str | None:
    """Why the upload under ``key`` cannot be music (nothing there, or a picture), or None."""
    found = stored.get(key)
    if found is None:
        return missing_upload_problem(key)
    if found.content_type.startswith("image/"):
        return f"it is a picture ({found.content_type}); music needs sound"
    return None


def unusable_media_error(
    problems: list[MediaProblem], *, template: str = "ranking", within: str = ""
) -> InvalidRequestError:
    """422 listing every bad input at once, so all of them can be fixed before trying again."""
    listed = "; ".join(f"{problem.describe()}: {problem.problem}" for problem in problems)
    noun = "input is" if len(problems) == 1 else "inputs are"
    prefix = f"{within}." if within else ""
    return InvalidRequestError.of(
        [
            {
                "field": prefix + problem.field,
                "media_key": problem.media_key,
                "rank": problem.rank,
                "label": problem.label,
                "problem": problem.problem,
            }
            for problem in problems
        ],
        message=f"{len(problems)} {template} {noun} not usable: {listed}",
    )


async def _stored(blobs: BlobStore, bucket: str, keys: list[str]) -> dict[str, BlobInfo | None]:
    try:
        found = await asyncio.gather(*(blobs.stat(bucket, key) for key in keys))
    except StorageUploadError as exc:
        raise DependencyUnavailableError("the media store (S3)", what="checking the uploads the request names") from exc
    return dict(zip(keys, found, strict=True))


async def require_ranking_media(blobs: BlobStore, bucket: str, spec: RankingSpec) -> None:
    problems = media_problems(spec, await _stored(blobs, bucket, media_keys(spec)))
    if problems:
        raise unusable_media_error(problems)


async def require_lesson_music(blobs: BlobStore, bucket: str, music: MusicTrack | None, *, within: str = "") -> None:
    """A lesson's background music must be an upload with sound before its job starts, like a ranking short's."""
    if music is None:
        return
    key = music.media_key
    stored = await _stored(blobs, bucket, [key] if is_upload_key(key) else [])
    if (problem := music_problem(key, stored)) is not None:
        raise unusable_media_error([MediaProblem("music.media_key", key, problem)], template="lesson", within=within)


@dataclass(frozen=True)
class NamedUpload:
    """An upload a spec names in ``field``, which must be a ``kind`` of upload: a scene's ``visual`` (a picture or a
    video), an ``image`` (the logo: a picture) or a ``font``."""

    field: str
    key: str
    kind: Literal["visual", "image", "font"]


def lesson_uploads(script: VideoScript, brand: BrandColours | None, *, script_field: str) -> list[NamedUpload]:
    """Every upload a lesson shows: scene visuals that name an upload (the others are prompts for the image
    provider), the brand logo and the brand font."""
    named = [
        NamedUpload(f"{script_field}.chapters.{c}.scenes.{s}.visual", (scene.visual or "").strip(), "visual")
        for c, chapter in enumerate(script.chapters)
        for s, scene in enumerate(chapter.scenes)
        if is_upload_key((scene.visual or "").strip())
    ]
    if brand is not None and brand.logo is not None:
        named.append(NamedUpload("brand.logo", brand.logo, "image"))
    if brand is not None and brand.font is not None:
        named.append(NamedUpload("brand.font", brand.font, "font"))
    return named


def upload_kind_problem(upload: NamedUpload, found: BlobInfo | None) -> str | None:
    if found is None:
        return missing_upload_problem(upload.key)
    if upload.kind == "font" and not found.content_type.startswith("font/"):
        return f"it is a {found.content_type} upload; brand.font must be a TrueType or OpenType font"
    if upload.kind == "image" and not found.content_type.startswith("image/"):
        return f"the upload is {found.content_type}; brand.logo must be a picture (PNG, JPEG or WebP)"
    if upload.kind == "visual" and not found.content_type.startswith(("image/", "video/")):
        return (
            f"the upload is {found.content_type}; a scene's visual must be a picture (PNG, JPEG or WebP) or a video "
            "(MP4, MOV, MKV or WebM)"
        )
    return None


async def require_lesson_uploads(blobs: BlobStore, bucket: str, named: list[NamedUpload], *, within: str = "") -> None:
    """Every picture, video and font a lesson names must be an upload of that kind before its job starts."""
    if not named:
        return
    stored = await _stored(blobs, bucket, list(dict.fromkeys(upload.key for upload in named)))
    problems = [
        MediaProblem(upload.field, upload.key, problem)
        for upload in named
        if (problem := upload_kind_problem(upload, stored[upload.key])) is not None
    ]
    if problems:
        raise unusable_media_error(problems, template="lesson", within=within)
