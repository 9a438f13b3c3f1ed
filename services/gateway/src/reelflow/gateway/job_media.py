"""Before a job starts: every clip and the music name media in the media bucket, and clips are video.

Checking here, rather than letting compose find out, answers the caller at once and lists every bad input.
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from reelflow.contracts import MusicTrack, RankingSpec
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.refusals import LedgerError
from reelflow.runtime.blobs import BlobInfo, BlobStore

NOT_UPLOADED = (
    "nothing is stored under this key; upload the file with POST /api/uploads and use the media_key it returns"
)


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
    keys = [clip.media_key for clip in spec.clips] + ([spec.music.media_key] if spec.music else [])
    return list(dict.fromkeys(keys))


def media_problems(spec: RankingSpec, stored: Mapping[str, BlobInfo | None]) -> list[MediaProblem]:
    """What is wrong with the spec's media, given what the bucket holds under each key (None: nothing)."""
    problems: list[MediaProblem] = []
    for index, clip in enumerate(spec.clips):
        found = stored.get(clip.media_key)
        if found is None:
            problem = NOT_UPLOADED
        elif found.content_type.startswith("audio/"):
            problem = f"it is an audio upload ({found.content_type}); a clip needs video, use it as the music instead"
        else:
            continue
        problems.append(
            MediaProblem(f"clips.{index}.media_key", clip.media_key, problem, rank=clip.rank, label=clip.label)
        )
    if spec.music is not None and stored.get(spec.music.media_key) is None:
        problems.append(MediaProblem("music.media_key", spec.music.media_key, NOT_UPLOADED))
    return problems


def unusable_media_error(problems: list[MediaProblem], *, template: str = "ranking") -> LedgerError:
    """422 listing every bad input at once, so all of them can be fixed before trying again."""
    listed = "; ".join(f"{problem.describe()}: {problem.problem}" for problem in problems)
    noun = "input is" if len(problems) == 1 else "inputs are"
    return LedgerError(
        f"{len(problems)} {template} {noun} not usable: {listed}",
        api_code=ApiErrorCode.VALIDATION_FAILED,
        status=422,
        details={
            "problems": [
                {
                    "field": problem.field,
                    "media_key": problem.media_key,
                    "rank": problem.rank,
                    "label": problem.label,
                    "problem": problem.problem,
                }
                for problem in problems
            ]
        },
    )


async def require_ranking_media(blobs: BlobStore, bucket: str, spec: RankingSpec) -> None:
    keys = media_keys(spec)
    found = await asyncio.gather(*(blobs.stat(bucket, key) for key in keys))
    problems = media_problems(spec, dict(zip(keys, found, strict=True)))
    if problems:
        raise unusable_media_error(problems)


async def require_lesson_music(blobs: BlobStore, bucket: str, music: MusicTrack | None) -> None:
    """A lesson's background music must be uploaded before its job starts, like a ranking short's."""
    if music is not None and await blobs.stat(bucket, music.media_key) is None:
        problem = MediaProblem("music.media_key", music.media_key, NOT_UPLOADED)
        raise unusable_media_error([problem], template="lesson")
