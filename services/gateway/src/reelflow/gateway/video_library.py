"""A workspace's library: its videos, jobs and scripts as paginated, filterable lists; a video's review (approve or
reject, apart from its job's state), its timecoded comments, and deleting a video with everything it made."""

import base64
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field
from pymongo import DESCENDING, AsyncMongoClient

from reelflow.contracts import ACTIVE_STATUSES, AssetKind, JobStatus, Script, ScriptStatus
from reelflow.contracts._base import Contract
from reelflow.gateway.accounts import Caller
from reelflow.gateway.job_views import RenderJobView
from reelflow.gateway.ownership import NO_JOB_STATE, VideoKind, VideoRegistry
from reelflow.gateway.refusals import ConflictError, InvalidRequestError, NotFoundError
from reelflow.gateway.request_bodies import RequestBody
from reelflow.gateway.store import LedgerStore
from reelflow.gateway.stored_times import epoch_now, required_time_of
from reelflow.runtime.blobs import BlobStore

Document = dict[str, Any]
MAX_PAGE = 100
# Jobs and scripts are listed across the workspace's videos, the newest this many of them.
MAX_VIDEOS_SCANNED = 2000


class ReviewDecision(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class VideoSummary(Contract):
    video_id: str
    title: str
    kind: VideoKind
    state: str = Field(description="The newest render job's status, or SCRIPT while the video has no job.")
    review: ReviewDecision
    review_reason: str
    duration_sec: float | None
    latest_job_id: str | None
    latest_script_id: str | None
    thumbnail_url: str | None = Field(description="The newest job's thumbnail, once it is COMPLETED.")
    created_at: datetime
    updated_at: datetime


class VideoPage(Contract):
    items: list[VideoSummary]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next page; null on the last one.")


class JobPage(Contract):
    items: list[RenderJobView]
    next_cursor: str | None


class ScriptPage(Contract):
    items: list[Script]
    next_cursor: str | None


class Review(RequestBody):
    decision: ReviewDecision = Field(description="APPROVED or REJECTED (PENDING takes a decision back).")
    reason: str = Field(default="", max_length=2000, description="Why; required to reject.")


class NewComment(RequestBody):
    at_sec: float = Field(ge=0, le=24 * 3600, description="Where in the video, in seconds.")
    text: str = Field(min_length=1, max_length=4000)


class CommentChange(RequestBody):
    resolved: bool


class Comment(Contract):
    comment_id: str
    video_id: str
    at_sec: float
    text: str
    author: str
    resolved: bool
    created_at: datetime


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The offset an opaque cursor stands for; a cursor this gateway did not make is a 422 naming it."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError):
        offset, kind = -1, ""
    if kind != "o" or offset < 0:
        raise InvalidRequestError.of([{"field": "cursor", "problem": "not a cursor a list answered; omit it"}])
    return offset


def _next_cursor(offset: int, found: int, limit: int) -> str | None:
    return encode_cursor(offset + limit) if found > limit else None


def summary_of(document: Mapping[str, Any]) -> VideoSummary:
    state = document.get("state") or NO_JOB_STATE
    job_id = document.get("latest_job_id")
    completed = state == JobStatus.COMPLETED.value and job_id is not None
    return VideoSummary(
        video_id=document["_id"],
        title=document.get("title") or document["_id"],
        kind=VideoKind(document.get("kind", VideoKind.LESSON)),
        state=state,
        review=ReviewDecision(document.get("review", ReviewDecision.PENDING)),
        review_reason=document.get("review_reason", ""),
        duration_sec=document.get("duration_sec"),
        latest_job_id=job_id,
        latest_script_id=document.get("latest_script_id"),
        thumbnail_url=f"/api/assets/{job_id}/{AssetKind.THUMBNAIL.value}" if completed else None,
        created_at=required_time_of(document["created_at"]),
        updated_at=required_time_of(document.get("updated_at") or document["created_at"]),
    )


def search_filter(text: str | None) -> Document:
    """Title or video id containing ``text``, ignoring case (matched literally, not as a pattern)."""
    if not text or not text.strip():
        return {}
    return {"search_text": {"$regex": re.escape(text.strip().lower())}}


def comment_of(document: Mapping[str, Any]) -> Comment:
    return Comment(
        comment_id=document["_id"],
        video_id=document["video_id"],
        at_sec=document["at_sec"],
        text=document["text"],
        author=document["author"],
        resolved=bool(document.get("resolved")),
        created_at=required_time_of(document["created_at"]),
    )


class VideoLibrary:
    def __init__(
        self,
        client: AsyncMongoClient[Document],
        database: str,
        registry: VideoRegistry,
        ledger: LedgerStore,
        blobs: BlobStore,
        *,
        media_bucket: str,
    ) -> None:
        db = client[database]
        self._registry = registry
        self._ledger = ledger
        self._blobs = blobs
        self._media_bucket = media_bucket
        self._comments = db["comments"]

    async def ensure_indexes(self) -> None:
        await self._comments.create_index([("video_id", 1), ("at_sec", 1)])

    # ---- lists ------------------------------------------------------------------------------------------------
    async def videos(
        self,
        caller: Caller,
        *,
        state: str | None,
        review: ReviewDecision | None,
        search: str | None,
        limit: int,
        cursor: str | None,
    ) -> VideoPage:
        offset = decode_cursor(cursor)
        query: Document = {"workspace_id": caller.workspace_id, **search_filter(search)}
        if review is not None:
            query["review"] = review.value
        if state is not None:
            query["state"] = state
        found = (
            self._registry.videos.find(query)
            .sort([("updated_at", DESCENDING), ("_id", 1)])
            .skip(offset)
            .limit(limit + 1)
        )
        documents = [document async for document in found]
        return VideoPage(
            items=[summary_of(document) for document in documents[:limit]],
            next_cursor=_next_cursor(offset, len(documents), limit),
        )

    async def _video_ids(self, caller: Caller) -> list[str]:
        found = (
            self._registry.videos.find({"workspace_id": caller.workspace_id}, {"_id": 1})
            .sort("updated_at", DESCENDING)
            .limit(MAX_VIDEOS_SCANNED)
        )
        return [document["_id"] async for document in found]

    async def jobs(self, caller: Caller, *, status: JobStatus | None, limit: int, cursor: str | None) -> JobPage:
        offset = decode_cursor(cursor)
        jobs = await self._ledger.jobs_of_videos(
            await self._video_ids(caller), status=status.value if status else None, skip=offset, limit=limit + 1
        )
        return JobPage(items=jobs[:limit], next_cursor=_next_cursor(offset, len(jobs), limit))

    async def scripts(
        self, caller: Caller, *, status: ScriptStatus | None, limit: int, cursor: str | None
    ) -> ScriptPage:
        offset = decode_cursor(cursor)
        listed = await self._ledger.scripts_of_videos(
            await self._video_ids(caller), status=status.value if status else None, skip=offset, limit=limit + 1
        )
        return ScriptPage(items=listed[:limit], next_cursor=_next_cursor(offset, len(listed), limit))

    async def video(self, video_id: str) -> VideoSummary:
        document = await self._registry.videos.find_one({"_id": video_id})
        if document is None:
            raise NotFoundError(f"no video {video_id}")
        return summary_of(document)

    # ---- review ----------------------------------------------------------------------------------------------
    async def review(self, video_id: str, decision: Review) -> VideoSummary:
        """Approve or reject the finished video; its job must have COMPLETED, and a rejection must say why."""
        current = await self.video(video_id)
        if decision.decision is not ReviewDecision.PENDING and current.state != JobStatus.COMPLETED.value:
            raise ConflictError(
                f"video {video_id} has no finished render to review (its newest job is {current.state}); "
                "review it once the job is COMPLETED"
            )
        if decision.decision is ReviewDecision.REJECTED and not decision.reason.strip():
            raise InvalidRequestError.of([{"field": "reason", "problem": "say why the video is rejected"}])
        await self._registry.touch(video_id, {"review": decision.decision.value, "review_reason": decision.reason})
        return await self.video(video_id)

    # ---- comments --------------------------------------------------------------------------------------------
    async def comments(self, video_id: str) -> list[Comment]:
        found = self._comments.find({"video_id": video_id}).sort([("at_sec", 1), ("created_at", 1)]).limit(2000)
        return [comment_of(document) async for document in found]

    async def add_comment(self, caller: Caller, video_id: str, body: NewComment) -> Comment:
        summary = await self.video(video_id)
        if summary.duration_sec is not None and body.at_sec > summary.duration_sec + 0.5:
            raise InvalidRequestError.of(
                [{"field": "at_sec", "problem": f"the video lasts {summary.duration_sec:.1f} s; comment inside it"}]
            )
        document = {
            "_id": uuid.uuid4().hex,
            "video_id": video_id,
            "at_sec": round(body.at_sec, 3),
            "text": body.text,
            "author": caller.email or f"key {caller.principal_id}",
            "resolved": False,
            "created_at": epoch_now(),
        }
        await self._comments.insert_one(document)
        return comment_of(document)

    async def change_comment(self, video_id: str, comment_id: str, change: CommentChange) -> Comment:
        result = await self._comments.update_one(
            {"_id": comment_id, "video_id": video_id}, {"$set": {"resolved": change.resolved}}
        )
        if result.matched_count == 0:
            raise NotFoundError(f"no comment {comment_id} on video {video_id}")
        document = await self._comments.find_one({"_id": comment_id})
        if document is None:
            raise NotFoundError(f"no comment {comment_id} on video {video_id}")
        return comment_of(document)

    # ---- delete ----------------------------------------------------------------------------------------------
    async def delete(self, video_id: str) -> None:
        """The video, its scripts and their versions, its jobs, comments and stored assets; not while it renders."""
        active = [job for job in await self._ledger.jobs_of_video(video_id) if job.status in ACTIVE_STATUSES]
        if active:
            job_id = active[0].job_id
            raise ConflictError(
                f"video {video_id} is rendering (job {job_id}); cancel it with POST /api/render-jobs/{job_id}/cancel "
                "and delete the video once the job has ended",
                details={"job_id": job_id},
            )
        await self._blobs.delete_prefix(self._media_bucket, f"videos/{video_id}/")
        await self._ledger.forget_video(video_id)
        await self._comments.delete_many({"video_id": video_id})
        await self._registry.forget(video_id)
