"""Which workspace owns what: every video (and with it its scripts, jobs, assets and comments) and every upload.

A caller sees and changes only its own workspace's things; anything else answers exactly as if it did not exist
(404), so ids cannot be probed. A video id is claimed by the first workspace that uses it; documents written before
workspaces existed belong to the default workspace.
"""

import contextlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from reelflow.contracts import LessonSpec, MusicTrack, RankingClip, RankingSpec
from reelflow.gateway.accounts import DEFAULT_WORKSPACE, Caller
from reelflow.gateway.job_media import MediaProblem, missing_upload_problem, unusable_media_error
from reelflow.gateway.refusals import ConflictError, NotFoundError
from reelflow.gateway.render_specs import RankingOptions
from reelflow.gateway.store import LedgerStore, searchable
from reelflow.gateway.stored_times import epoch_now, required_time_of

Document = dict[str, Any]


# The workspace of a deleted video's tombstone: no caller's.
DELETED = ""
# A video's state until its first render job: its script is being written or reviewed.
NO_JOB_STATE = "SCRIPT"


class VideoKind(StrEnum):
    LESSON = "lesson"
    RANKING = "ranking"


@dataclass(frozen=True)
class VideoRecord:
    video_id: str
    workspace_id: str
    kind: VideoKind
    title: str
    created_at: datetime
    updated_at: datetime
    review: str
    review_reason: str


def video_record(document: Document) -> VideoRecord:
    return VideoRecord(
        video_id=document["_id"],
        workspace_id=document["workspace_id"],
        kind=VideoKind(document.get("kind", VideoKind.LESSON)),
        title=document.get("title", ""),
        created_at=required_time_of(document["created_at"]),
        updated_at=required_time_of(document.get("updated_at") or document["created_at"]),
        review=document.get("review", "PENDING"),
        review_reason=document.get("review_reason", ""),
    )


class VideoRegistry:
    """The ``videos`` collection: one document per video id, naming its workspace, kind, title and review."""

    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        db = client[database]
        self.videos = db["videos"]
        self._grants = db["upload_grants"]

    async def ensure_indexes(self) -> None:
        await self.videos.create_index([("workspace_id", 1), ("updated_at", -1)])

    async def claim(self, video_id: str, workspace_id: str, kind: VideoKind, title: str) -> VideoRecord:
        """The video, made ``workspace_id``'s if nobody had it; a video id another workspace holds is refused."""
        record, _ = await self.claim_new(video_id, workspace_id, kind, title)
        return record

    async def claim_new(
        self, video_id: str, workspace_id: str, kind: VideoKind, title: str
    ) -> tuple[VideoRecord, bool]:
        """As :meth:`claim`, and whether this call made the video."""
        now = epoch_now()
        document = {
            "_id": video_id,
            "workspace_id": workspace_id,
            "kind": kind.value,
            "title": title,
            "search_text": searchable(video_id, title),
            "state": NO_JOB_STATE,
            "created_at": now,
            "updated_at": now,
            "review": "PENDING",
            "review_reason": "",
        }
        try:
            await self.videos.insert_one(document)
            return video_record(document), True
        except DuplicateKeyError:
            pass
        existing = await self.videos.find_one({"_id": video_id})
        if existing is not None and existing["workspace_id"] == DELETED:
            await self.videos.replace_one(
                {"_id": video_id}, {key: value for key, value in document.items() if key != "_id"}
            )
            return video_record(document), True
        if existing is None or existing["workspace_id"] != workspace_id:
            raise ConflictError(f"the video id {video_id!r} is taken; choose another one")
        retitled = {"title": title, "search_text": searchable(video_id, title)} if title else {}
        changes: Document = {"updated_at": now} | retitled
        await self.videos.update_one({"_id": video_id}, {"$set": changes})
        return video_record(existing | changes), False

    async def find(self, video_id: str) -> VideoRecord | None:
        document = await self.videos.find_one({"_id": video_id})
        return video_record(document) if document else None

    async def owner_of(self, video_id: str) -> str:
        """The workspace of the video; the default one for ids nobody claimed (older documents, and bus requests
        that named no video)."""
        if not video_id:
            return DEFAULT_WORKSPACE
        document = await self.videos.find_one({"_id": video_id}, {"workspace_id": 1})
        return document["workspace_id"] if document else DEFAULT_WORKSPACE

    async def touch(self, video_id: str, changes: Document | None = None) -> None:
        await self.videos.update_one({"_id": video_id}, {"$set": {"updated_at": epoch_now(), **(changes or {})}})

    async def release(self, video_id: str) -> None:
        """Undo a claim that made nothing (its request was refused): the id is as free as before."""
        await self.videos.delete_one({"_id": video_id})

    async def forget(self, video_id: str) -> None:
        """Leave a tombstone: a deleted video belongs to no workspace (every route answers 404 for it, not the
        default workspace's empty lists), until someone claims its id again."""
        tombstone = {"workspace_id": DELETED, "created_at": epoch_now()}
        replaced = await self.videos.replace_one({"_id": video_id}, tombstone)
        if replaced.matched_count == 0:  # an id nobody had claimed (older documents): written, not upserted
            with contextlib.suppress(DuplicateKeyError):
                await self.videos.insert_one({"_id": video_id, **tombstone})

    async def grant_upload(self, workspace_id: str, media_key: str) -> None:
        await self._grants.update_one(
            {"_id": f"{workspace_id}:{media_key}"},
            {"$set": {"workspace_id": workspace_id, "media_key": media_key, "at": epoch_now()}},
            upsert=True,
        )

    async def ungranted_uploads(self, workspace_id: str, media_keys: Iterable[str]) -> list[str]:
        wanted = sorted(set(media_keys))
        found = self._grants.find({"_id": {"$in": [f"{workspace_id}:{key}" for key in wanted]}}, {"media_key": 1})
        granted = {document["media_key"] async for document in found}
        return [key for key in wanted if key not in granted]


class Access:
    """Checks that a caller's workspace owns what a request names, before any command acts on it."""

    def __init__(self, registry: VideoRegistry, ledger: LedgerStore) -> None:
        self.registry = registry
        self._ledger = ledger

    @asynccontextmanager
    async def video_for(
        self, caller: Caller, video_id: str, kind: VideoKind, title: str = ""
    ) -> AsyncIterator[VideoRecord]:
        """The caller's video, claimed for a request that makes something of it. A video this claim made is
        released again when the request is refused, so a refused request leaves nothing in the library."""
        record, made = await self.registry.claim_new(video_id, caller.workspace_id, kind, title)
        try:
            yield record
        except BaseException:
            if made:
                await self.registry.release(video_id)
            raise

    async def video(self, caller: Caller, video_id: str) -> None:
        if await self.registry.owner_of(video_id) != caller.workspace_id:
            raise NotFoundError(f"no video {video_id}")

    async def script(self, caller: Caller, script_id: str) -> None:
        video_id = await self._ledger.video_of_script(script_id)
        if video_id is None or await self.registry.owner_of(video_id) != caller.workspace_id:
            raise NotFoundError(f"no script {script_id}")

    async def note_script(self, video_id: str, script_id: str) -> None:
        """The library shows the video's newest script (to review it) until a job supersedes it."""
        await self.registry.touch(video_id, {"latest_script_id": script_id})

    async def job(self, caller: Caller, job_id: str) -> None:
        video_id = await self._ledger.video_of_job(job_id)
        if video_id is None or await self.registry.owner_of(video_id) != caller.workspace_id:
            raise NotFoundError(f"no render job {job_id}")

    async def lesson_music(self, caller: Caller, music: MusicTrack | None, *, within: str = "") -> None:
        """Refuse (422) music the caller's workspace never uploaded, exactly as if it was not uploaded at all."""
        if music is None or not await self.registry.ungranted_uploads(caller.workspace_id, [music.media_key]):
            return
        problem = MediaProblem("music.media_key", music.media_key, missing_upload_problem(music.media_key))
        raise unusable_media_error([problem], template="lesson", within=within)

    async def spec_media(self, caller: Caller, spec: LessonSpec | RankingSpec) -> None:
        """Refuse (422, fields under ``spec.``) media a ready-made spec (the backend's) names that the caller's
        workspace never uploaded."""
        if isinstance(spec, LessonSpec):
            await self.lesson_music(caller, spec.music, within="spec")
        else:
            await self._ranking_media(caller, spec.clips, spec.music, within="spec")

    async def ranking_media(self, caller: Caller, options: RankingOptions) -> None:
        """Refuse (422) clips and music the caller's workspace never uploaded, as if they were not uploaded."""
        await self._ranking_media(caller, options.clips, options.music)

    async def _ranking_media(
        self, caller: Caller, clips: list[RankingClip], music_track: MusicTrack | None, *, within: str = ""
    ) -> None:
        music = [music_track.media_key] if music_track else []
        named = [clip.media_key for clip in clips] + music
        hidden = set(await self.registry.ungranted_uploads(caller.workspace_id, named))
        problems = [
            MediaProblem(
                f"clips.{index}.media_key",
                clip.media_key,
                missing_upload_problem(clip.media_key),
                rank=clip.rank,
                label=clip.label,
            )
            for index, clip in enumerate(clips)
            if clip.media_key in hidden
        ]
        problems += [
            MediaProblem("music.media_key", key, missing_upload_problem(key)) for key in music if key in hidden
        ]
        if problems:
            raise unusable_media_error(problems, within=within)
