"""MongoDB persistence of the ledger's documents: render jobs, scripts, their kept versions and script requests.

Writes are whole-document compare-and-swap on a ``rev`` counter: the ledger computes the next document with a
pure projection, and concurrent writers (several gateway replicas) retry instead of overwriting each other.
(Whole documents also sidestep the MongoDB-wire server's quirks with operators such as ``$push`` of a dict.)
"""

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import DESCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError, PyMongoError

from reelflow.contracts import ACTIVE_STATUSES, ErrorInfo, RenderJob, Script
from reelflow.gateway.job_views import RenderJobView
from reelflow.runtime.failures import ReelflowError

CAS_ATTEMPTS = 20
# Fields of a job document that are the gateway's own, not the contract's; every rewrite of the job keeps them.
GATEWAY_JOB_FIELDS = ("script_version",)


class StoreUnavailableError(ReelflowError):
    default_retryable = True


class ScriptRequestState(StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"


def _strip(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in ("_id", "rev", *GATEWAY_JOB_FIELDS)}


def _gateway_fields(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document[key] for key in GATEWAY_JOB_FIELDS if key in document}


def _job_view(document: dict[str, Any]) -> RenderJobView:
    return RenderJobView.model_validate({**_strip(document), **_gateway_fields(document)})


def _version_key(script_id: str, version: int) -> str:
    return f"{script_id}:{version}"


class LedgerStore:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._client = client
        db = client[database]
        self._jobs = db["render_jobs"]
        self._scripts = db["scripts"]
        self._script_versions = db["script_versions"]
        self._requests = db["script_requests"]
        self._active = db["active_jobs"]

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def ensure_indexes(self) -> None:
        await self._jobs.create_index([("video_id", 1), ("created_at", DESCENDING)])
        await self._scripts.create_index([("video_id", 1)])
        await self._script_versions.create_index([("script_id", 1), ("version", DESCENDING)])
        await self._script_versions.create_index([("video_id", 1)])

    # ---- render jobs ------------------------------------------------------------------------------------------
    async def insert_job(self, job: RenderJob, *, script_version: int | None = None) -> None:
        """Insert a new job; ``script_version`` records which version of its script the spec was frozen from."""
        gateway_fields = {} if script_version is None else {"script_version": script_version}
        await self._jobs.insert_one({"_id": job.job_id, "rev": 0, **job.model_dump(mode="python"), **gateway_fields})

    async def get_job(self, job_id: str) -> RenderJob | None:
        document = await self._jobs.find_one({"_id": job_id})
        return RenderJob.model_validate(_strip(document)) if document else None

    async def get_job_view(self, job_id: str) -> RenderJobView | None:
        document = await self._jobs.find_one({"_id": job_id})
        return _job_view(document) if document else None

    async def jobs_of_video(self, video_id: str, limit: int = 50) -> list[RenderJobView]:
        cursor = self._jobs.find({"video_id": video_id}).sort("created_at", DESCENDING).limit(limit)
        return [_job_view(document) async for document in cursor]

    async def update_job(
        self, job_id: str, project: Callable[[RenderJob | None], RenderJob | None]
    ) -> tuple[RenderJob | None, bool]:
        """Apply ``project`` until it lands; returns (current job, changed). ``None`` from project = no change."""
        for _ in range(CAS_ATTEMPTS):
            document = await self._jobs.find_one({"_id": job_id})
            current = RenderJob.model_validate(_strip(document)) if document else None
            updated = project(current)
            if updated is None or updated == current:
                return current, False
            if document is None:
                try:
                    await self.insert_job(updated)
                except DuplicateKeyError:
                    continue
                return updated, True
            revision = int(document.get("rev", 0))
            result = await self._jobs.replace_one(
                {"_id": job_id, "rev": revision},
                {"rev": revision + 1, **updated.model_dump(mode="python"), **_gateway_fields(document)},
            )
            if result.matched_count == 1:
                return updated, True
        raise StoreUnavailableError(f"job {job_id}: too many concurrent updates, try again")

    # ---- one active job per video -----------------------------------------------------------------------------
    async def claim_active(self, video_id: str, job_id: str) -> str | None:
        """Claim the video's active-job slot for ``job_id``; returns the holder's job_id when already taken."""
        try:
            await self._active.insert_one({"_id": video_id, "job_id": job_id})
        except DuplicateKeyError:
            holder = await self._active.find_one({"_id": video_id})
            if holder is None:
                return await self.claim_active(video_id, job_id)
            holder_job = await self.get_job(str(holder["job_id"]))
            if holder_job is None or holder_job.status not in ACTIVE_STATUSES:
                # A stale claim (its job finished without releasing): take it over.
                await self._active.delete_one({"_id": video_id, "job_id": holder["job_id"]})
                return await self.claim_active(video_id, job_id)
            return str(holder["job_id"])
        return None

    async def release_active(self, video_id: str, job_id: str) -> None:
        await self._active.delete_one({"_id": video_id, "job_id": job_id})

    # ---- scripts -----------------------------------------------------------------------------------------------
    async def insert_script_request(self, script_id: str, video_id: str, at: datetime) -> None:
        await self._requests.insert_one(
            {"_id": script_id, "video_id": video_id, "state": ScriptRequestState.PENDING, "error": None, "at": at}
        )

    async def script_request(self, script_id: str) -> tuple[ScriptRequestState, ErrorInfo | None] | None:
        document = await self._requests.find_one({"_id": script_id})
        if document is None:
            return None
        error = ErrorInfo.model_validate(document["error"]) if document.get("error") else None
        return ScriptRequestState(document["state"]), error

    async def finish_script_request(self, script_id: str, state: ScriptRequestState, error: ErrorInfo | None) -> None:
        await self._requests.update_one(
            {"_id": script_id},
            {"$set": {"state": state, "error": error.model_dump(mode="python") if error else None}},
            upsert=True,
        )

    async def save_script(self, script: Script) -> bool:
        """Insert a new script; False when it already exists (a redelivered event)."""
        try:
            await self._scripts.insert_one({"_id": script.script_id, "rev": 0, **script.model_dump(mode="python")})
        except DuplicateKeyError:
            return False
        return True

    async def get_script(self, script_id: str) -> Script | None:
        document = await self._scripts.find_one({"_id": script_id})
        return Script.model_validate(_strip(document)) if document else None

    async def scripts_of_video(self, video_id: str, limit: int = 50) -> list[Script]:
        """The latest version of each of the video's scripts, most recently written first."""
        cursor = self._scripts.find({"video_id": video_id}).sort("created_at", DESCENDING).limit(limit)
        return [Script.model_validate(_strip(document)) async for document in cursor]

    async def update_script(self, script_id: str, change: Callable[[Script], Script]) -> tuple[Script, Script] | None:
        """Apply ``change`` to the latest version until it lands; returns (before, after), None when missing.

        ``change`` may raise to refuse; it is re-run on the newer script when another writer got there first.
        """
        for _ in range(CAS_ATTEMPTS):
            document = await self._scripts.find_one({"_id": script_id})
            if document is None:
                return None
            current = Script.model_validate(_strip(document))
            updated = change(current)
            if updated == current:
                return current, current
            revision = int(document.get("rev", 0))
            result = await self._scripts.replace_one(
                {"_id": script_id, "rev": revision}, {"rev": revision + 1, **updated.model_dump(mode="python")}
            )
            if result.matched_count == 1:
                return current, updated
        raise StoreUnavailableError(f"script {script_id}: too many concurrent updates, try again")

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


def wrap_mongo_errors(error: PyMongoError) -> StoreUnavailableError:
    return StoreUnavailableError(f"MongoDB is unavailable: {error}")
