"""MongoDB persistence of the ledger's documents: render jobs, scripts, their kept versions, script requests, and the
events each job or script request still owes the bus (its outbox).

Writes are whole-document compare-and-swap on a ``rev`` counter: the ledger computes the next document with a
pure function, and concurrent writers (several gateway replicas, the relay) retry instead of overwriting each
other. Whole documents also sidestep the MongoDB-wire server's quirks with operators such as ``$push`` of a dict,
and let a change and the events it owes land in one write (see ``outbox``).
"""

import math
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pymongo import DESCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from reelflow.contracts import ACTIVE_STATUSES, ErrorInfo, Event, RenderJob, Script, ScriptRequested
from reelflow.gateway.job_views import RenderJobView
from reelflow.gateway.outbox import OwedEvent, owed_events, with_owed, without_settled
from reelflow.gateway.refusals import DependencyUnavailableError

CAS_ATTEMPTS = 20
# A job is inserted right after its video's slot is claimed; a claim without its job after this long is a leftover.
UNWRITTEN_CLAIM_GRACE_SEC = 30.0
JOBS = "render_jobs"
SCRIPT_REQUESTS = "script_requests"
# The library's documents, one per video (``ownership.VideoRegistry``); the ledger keeps their latest-job summary.
VIDEOS = "videos"
# Fields of a job document that are the gateway's own, not the contract's; every rewrite of the job keeps them.
# ``origin`` is "backend" for a job the Spring backend started (POST /video/job/{job_id}/start): it gets callbacks.
GATEWAY_JOB_FIELDS = ("script_version", "origin")
# Of those, what the API's job view shows.
VIEWED_JOB_FIELDS = ("script_version",)
BACKEND_ORIGIN = "backend"
# Every document that can owe events: the pending events, and a flag the relay finds them by (indexed).
OUTBOX_FIELDS = ("outbox", "owes")
_NOT_CONTRACT_FIELDS = ("_id", "rev", *GATEWAY_JOB_FIELDS, *OUTBOX_FIELDS)

Document = dict[str, Any]


class ScriptRequestState(StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass(frozen=True)
class JobChange:
    """A job as it should be written, and the events that writing it owes the bus (written in the same write)."""

    job: RenderJob
    owed: tuple[Event, ...] = ()


@dataclass(frozen=True)
class ScriptRequestRecord:
    state: ScriptRequestState
    error: ErrorInfo | None
    video_id: str | None
    material_id: str | int | None = None  # the backend's material the script was asked for: it gets a callback


def _strip(document: Document) -> Document:
    return {key: value for key, value in document.items() if key not in _NOT_CONTRACT_FIELDS}


def _gateway_fields(document: Document) -> Document:
    return {key: document[key] for key in GATEWAY_JOB_FIELDS if key in document}


def _outbox(document: Document | None) -> list[Document]:
    entries = (document or {}).get("outbox") or []
    return [dict(entry) for entry in entries]


def _outbox_fields(outbox: list[Document]) -> Document:
    return {"outbox": outbox, "owes": bool(outbox)}


def _job_view(document: Document) -> RenderJobView:
    viewed = {key: document[key] for key in VIEWED_JOB_FIELDS if key in document}
    return RenderJobView.model_validate({**_strip(document), **viewed})


def searchable(video_id: str, title: str) -> str:
    """What a library search looks in: the video id and the title, lower-cased."""
    return f"{video_id} {title}".lower()


def _version_key(script_id: str, version: int) -> str:
    return f"{script_id}:{version}"


async def rewrite_document(
    collection: AsyncCollection[Document],
    document_id: str,
    change: Callable[[Document | None], Document | None],
) -> tuple[Document | None, bool]:
    """Replace one document with ``change(current)`` (without ``_id``/``rev``) until the write lands.

    ``change`` returns None to leave the document as it is; it is re-run on the newer document when another
    writer got there first. Returns (the document as it now stands, whether this call wrote it).
    """
    for _ in range(CAS_ATTEMPTS):
        document = await collection.find_one({"_id": document_id})
        updated = change(document)
        if updated is None:
            return document, False
        if document is None:
            try:
                await collection.insert_one({"_id": document_id, "rev": 0, **updated})
            except DuplicateKeyError:
                continue
            return updated, True
        revision = document.get("rev")
        # Documents written before revisions existed have none: the first rewrite gives them one.
        expected: Any = revision if revision is not None else {"$exists": False}
        result = await collection.replace_one(
            {"_id": document_id, "rev": expected}, {"rev": int(revision or 0) + 1, **updated}
        )
        if result.matched_count == 1:
            return updated, True
    raise DependencyUnavailableError("MongoDB", what=f"updating {collection.name} {document_id} (too many writers)")


class LedgerStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        self._client = client
        db = client[database]
        self._jobs = db[JOBS]
        self._scripts = db["scripts"]
        self._script_versions = db["script_versions"]
        self._requests = db[SCRIPT_REQUESTS]
        self._active = db["active_jobs"]
        self._videos = db[VIDEOS]
        self._owing_collections: dict[str, AsyncCollection[Document]] = {
            JOBS: self._jobs,
            SCRIPT_REQUESTS: self._requests,
        }

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def ensure_indexes(self) -> None:
        await self._jobs.create_index([("video_id", 1), ("created_at", DESCENDING)])
        await self._jobs.create_index([("owes", 1)])
        await self._requests.create_index([("owes", 1)])
        await self._scripts.create_index([("video_id", 1)])
        await self._script_versions.create_index([("script_id", 1), ("version", DESCENDING)])
        await self._script_versions.create_index([("video_id", 1)])

    # ---- render jobs ------------------------------------------------------------------------------------------
    async def insert_job(
        self,
        job: RenderJob,
        *,
        script_version: int | None = None,
        origin: str | None = None,
        owed: Iterable[Event] = (),
    ) -> None:
        """Insert a new job with the events starting it owes; ``script_version`` records which version of its
        script the spec was frozen from, ``origin`` who started it when that matters (:data:`BACKEND_ORIGIN`).
        Raises ``DuplicateKeyError`` when the job exists."""
        gateway_fields: Document = {} if script_version is None else {"script_version": script_version}
        gateway_fields |= {} if origin is None else {"origin": origin}
        outbox = with_owed([], owed, at=datetime.now(UTC))
        await self._jobs.insert_one(
            {"_id": job.job_id, "rev": 0, **job.model_dump(mode="python"), **gateway_fields, **_outbox_fields(outbox)}
        )
        await self._summarise_on_video(job)

    async def get_job(self, job_id: str) -> RenderJob | None:
        document = await self._jobs.find_one({"_id": job_id})
        return RenderJob.model_validate(_strip(document)) if document else None

    async def job_origin(self, job_id: str) -> str | None:
        """Who started the job, when recorded (:data:`BACKEND_ORIGIN`); None for the REST API and the bus."""
        document = await self._jobs.find_one({"_id": job_id}, {"origin": 1})
        return document.get("origin") if document else None

    async def script_version_of_job(self, job_id: str) -> int | None:
        """The version of its script the job's spec froze, when known (it never changes after the insert)."""
        document = await self._jobs.find_one({"_id": job_id}, {"script_version": 1})
        version = document.get("script_version") if document else None
        return int(version) if version is not None else None

    async def get_job_view(self, job_id: str) -> RenderJobView | None:
        document = await self._jobs.find_one({"_id": job_id})
        return _job_view(document) if document else None

    async def jobs_of_videos(
        self, video_ids: Sequence[str], *, status: str | None, skip: int, limit: int
    ) -> list[RenderJobView]:
        """Jobs of any of the videos (with ``status``, when given), newest first, ``limit`` of them after ``skip``."""
        query: Document = {"video_id": {"$in": list(video_ids)}} | ({"status": status} if status else {})
        cursor = self._jobs.find(query).sort([("created_at", DESCENDING), ("_id", 1)]).skip(skip).limit(limit)
        return [_job_view(document) async for document in cursor]

    async def video_of_job(self, job_id: str) -> str | None:
        """The video the job renders; "" for a job whose request named none (a rejected bus request); None when
        there is no such job."""
        document = await self._jobs.find_one({"_id": job_id}, {"video_id": 1})
        return (document.get("video_id") or "") if document else None

    async def video_of_script(self, script_id: str) -> str | None:
        """The video a script (or a script still being written) is for."""
        for collection in (self._scripts, self._requests):
            document = await collection.find_one({"_id": script_id}, {"video_id": 1})
            if document is not None:
                return document.get("video_id")
        return None

    async def jobs_of_video(self, video_id: str, limit: int = 50) -> list[RenderJobView]:
        cursor = self._jobs.find({"video_id": video_id}).sort("created_at", DESCENDING).limit(limit)
        return [_job_view(document) async for document in cursor]

    async def update_job(
        self, job_id: str, decide: Callable[[RenderJob | None], JobChange | None]
    ) -> tuple[RenderJob | None, bool]:
        """Write what ``decide`` makes of the current job (None: nothing) with the events it owes, until it lands.

        Returns (the job as it now stands, whether this call changed it or what it owes).
        """
        now = datetime.now(UTC)

        def change(document: Document | None) -> Document | None:
            current = RenderJob.model_validate(_strip(document)) if document else None
            decided = decide(current)
            if decided is None:
                return None
            outbox = with_owed(_outbox(document), decided.owed, at=now)
            if decided.job == current and outbox == _outbox(document):
                return None
            return {
                **decided.job.model_dump(mode="python"),
                **(_gateway_fields(document) if document else {}),
                **_outbox_fields(outbox),
            }

        document, changed = await rewrite_document(self._jobs, job_id, change)
        job = RenderJob.model_validate(_strip(document)) if document else None
        if changed and job is not None:
            await self._summarise_on_video(job)
        return job, changed

    async def _summarise_on_video(self, job: RenderJob) -> None:
        """Keep the video's library document showing its newest job (state, duration), for lists and filters.

        An older job of the video (a retry of one that is not the newest) leaves the summary alone.
        """
        if job.video_id is None:
            return
        video = await self._videos.find_one({"_id": job.video_id}, {"latest_job_created": 1})
        if video is None:
            return
        created = math.floor(job.created_at.timestamp() * 1000)  # milliseconds: what MongoDB keeps of a datetime
        if (video.get("latest_job_created") or 0) > created:
            return
        summary = {
            "state": job.status.value,
            "latest_job_id": job.job_id,
            "latest_job_created": created,
            "latest_script_id": job.script_id,
            "duration_sec": job.duration_sec,
            "updated_at": datetime.now(UTC).timestamp(),
        }
        await self._videos.update_one({"_id": job.video_id}, {"$set": summary})

    async def forget_video(self, video_id: str) -> None:
        """Delete every ledger document of the video: jobs, scripts, their versions and requests, its job slot."""
        for collection in (self._jobs, self._scripts, self._script_versions, self._requests):
            await collection.delete_many({"video_id": video_id})
        await self._active.delete_one({"_id": video_id})

    # ---- one active job per video -----------------------------------------------------------------------------
    async def claim_active(self, video_id: str, job_id: str) -> str | None:
        """Claim the video's active-job slot for ``job_id``; returns the holder's job_id when another holds it.

        A claim whose job ended is taken over; so is one whose job was never written (its request failed between
        the claim and the job's insert), but only after :data:`UNWRITTEN_CLAIM_GRACE_SEC`: until then it is
        another request's job being started right now.
        """
        now = datetime.now(UTC)
        try:
            await self._active.insert_one({"_id": video_id, "job_id": job_id, "at": now})
        except DuplicateKeyError:
            holder = await self._active.find_one({"_id": video_id})
            if holder is None:
                return await self.claim_active(video_id, job_id)
            if holder["job_id"] == job_id:
                return None
            holder_job = await self.get_job(str(holder["job_id"]))
            claimed_at = holder.get("at")
            unwritten_for = (now - claimed_at).total_seconds() if isinstance(claimed_at, datetime) else math.inf
            stale = (holder_job is None and unwritten_for > UNWRITTEN_CLAIM_GRACE_SEC) or (
                holder_job is not None and holder_job.status not in ACTIVE_STATUSES
            )
            if stale:
                await self._active.delete_one({"_id": video_id, "job_id": holder["job_id"]})
                return await self.claim_active(video_id, job_id)
            return str(holder["job_id"])
        return None

    async def release_active(self, video_id: str, job_id: str) -> None:
        await self._active.delete_one({"_id": video_id, "job_id": job_id})

    # ---- script requests --------------------------------------------------------------------------------------
    async def insert_script_request(
        self, request: ScriptRequested, at: datetime, *, material_id: str | int | None = None
    ) -> None:
        """Record a PENDING request together with the ``rf.script.requested`` it owes, in one write; a request for
        the backend's ``material_id`` records it, for the callback once the script is written."""
        outbox = with_owed([], [request], at=at)
        await self._requests.insert_one(
            {
                "_id": request.script_id,
                "rev": 0,
                "video_id": request.video_id,
                "state": ScriptRequestState.PENDING,
                "error": None,
                "at": at,
                "material_id": material_id,
                **_outbox_fields(outbox),
            }
        )

    async def script_request(self, script_id: str) -> ScriptRequestRecord | None:
        document = await self._requests.find_one({"_id": script_id})
        if document is None:
            return None
        error = ErrorInfo.model_validate(document["error"]) if document.get("error") else None
        return ScriptRequestRecord(
            ScriptRequestState(document["state"]), error, document.get("video_id"), document.get("material_id")
        )

    async def finish_script_request(self, script_id: str, state: ScriptRequestState, error: ErrorInfo | None) -> None:
        def finished(document: Document | None) -> Document:
            base = _strip(document) if document else {"at": datetime.now(UTC)}
            return {
                **base,
                "state": state,
                "error": error.model_dump(mode="python") if error else None,
                **_outbox_fields(_outbox(document)),
            }

        await rewrite_document(self._requests, script_id, finished)

    # ---- scripts -----------------------------------------------------------------------------------------------
    async def save_script(self, script: Script) -> bool:
        """Insert a new script; False when it already exists (a redelivered event)."""
        try:
            await self._scripts.insert_one({"_id": script.script_id, "rev": 0, **script.model_dump(mode="python")})
        except DuplicateKeyError:
            return False
        await self._title_video(script)
        return True

    async def _title_video(self, script: Script) -> None:
        """A video named by nobody takes its first script's title (the lesson's heading) in the library."""
        await self._videos.update_one(
            {"_id": script.video_id, "title": ""},
            {"$set": {"title": script.title, "search_text": searchable(script.video_id, script.title)}},
        )

    async def get_script(self, script_id: str) -> Script | None:
        document = await self._scripts.find_one({"_id": script_id})
        return Script.model_validate(_strip(document)) if document else None

    async def scripts_of_video(self, video_id: str, limit: int = 50) -> list[Script]:
        """The latest version of each of the video's scripts, most recently written first."""
        cursor = self._scripts.find({"video_id": video_id}).sort("created_at", DESCENDING).limit(limit)
        return [Script.model_validate(_strip(document)) async for document in cursor]

    async def scripts_of_videos(
        self, video_ids: Sequence[str], *, status: str | None, skip: int, limit: int
    ) -> list[Script]:
        """The latest versions of the videos' scripts (with ``status``, when given), newest first, paged."""
        query: Document = {"video_id": {"$in": list(video_ids)}} | ({"status": status} if status else {})
        cursor = self._scripts.find(query).sort([("created_at", DESCENDING), ("_id", 1)]).skip(skip).limit(limit)
        return [Script.model_validate(_strip(document)) async for document in cursor]

    async def update_script(self, script_id: str, change: Callable[[Script], Script]) -> tuple[Script, Script] | None:
        """Apply ``change`` to the latest version until it lands; returns (before, after), None when missing.

        ``change`` may raise to refuse; it is re-run on the newer script when another writer got there first.
        """
        seen: list[Script] = []

        def rewrite(document: Document | None) -> Document | None:
            if document is None:
                return None
            current = Script.model_validate(_strip(document))
            seen[:] = [current]
            updated = change(current)
            return None if updated == current else updated.model_dump(mode="python")

        document, changed = await rewrite_document(self._scripts, script_id, rewrite)
        if document is None:
            return None
        before = seen[0]
        return before, Script.model_validate(_strip(document)) if changed else before

    # ---- kept script versions (insert-only: a version's text never changes once written) --------------------
    async def keep_script_version(self, script: Script) -> None:
        """Keep ``script`` as its version; a version already kept stays as it was first written."""
        key = _version_key(script.script_id, script.version)
        try:
            await self._script_versions.insert_one({"_id": key, **script.model_dump(mode="python")})
        except DuplicateKeyError:
            return

    async def kept_script_version(self, script_id: str, version: int) -> Script | None:
        document = await self._script_versions.find_one({"_id": _version_key(script_id, version)})
        return Script.model_validate(_strip(document)) if document else None

    async def kept_script_versions(self, script_id: str) -> list[Script]:
        cursor = self._script_versions.find({"script_id": script_id}).sort("version", DESCENDING)
        return [Script.model_validate(_strip(document)) async for document in cursor]

    async def kept_script_versions_of_video(self, video_id: str) -> dict[str, list[Script]]:
        """Every kept version of the video's scripts, grouped by script id."""
        kept: dict[str, list[Script]] = {}
        async for document in self._script_versions.find({"video_id": video_id}):
            script = Script.model_validate(_strip(document))
            kept.setdefault(script.script_id, []).append(script)
        return kept

    # ---- the outbox (see reelflow.gateway.outbox) --------------------------------------------------------------
    async def owing(self, limit: int) -> AsyncIterator[tuple[str, str, list[OwedEvent]]]:
        for name, collection in self._owing_collections.items():
            async for document in collection.find({"owes": True}).limit(limit):
                yield name, str(document["_id"]), owed_events(_outbox(document))

    async def owed_by(self, collection: str, document_id: str) -> list[OwedEvent]:
        document = await self._owing_collections[collection].find_one({"_id": document_id})
        return owed_events(_outbox(document))

    async def settle(self, collection: str, document_id: str, keys: Sequence[str]) -> None:
        def settled(document: Document | None) -> Document | None:
            outbox = _outbox(document)
            remaining = without_settled(outbox, keys)
            if document is None or remaining == outbox:
                return None
            return {key: value for key, value in document.items() if key not in ("_id", "rev")} | _outbox_fields(
                remaining
            )

        await rewrite_document(self._owing_collections[collection], document_id, settled)
