"""The Spring backend's callbacks: what it is told when a job it started ends, and when a script it asked for (with a
``material_id``) is written.

- ``POST {BACKEND_BASE_URL}/video/job/{job_id}/complete`` with ``{jobId, videoUrl, duration, status}``, once per
  attempt that ends (COMPLETED, FAILED or CANCELED); ``videoUrl`` is the video's download URL (see ``asset_urls``)
  and null unless the job completed, ``duration`` its length in seconds.
- ``POST {BACKEND_BASE_URL}/video/script/complete`` with ``{material_id, script_id, script, version}``, once per
  written script; ``script`` is its chapters and scenes.

The bodies are built by pure functions; :class:`BackendCallbacks` queues them on the webhook dispatcher's durable
delivery queue (lease, retries on the webhook schedule, a restart loses nothing) as the ledger records the event.
"""

import json
from typing import Any
from urllib.parse import quote

import structlog

from reelflow.contracts import TERMINAL_STATUSES, AssetKind, JobStatus, RenderJob, Script
from reelflow.gateway.asset_urls import asset_url
from reelflow.gateway.store import BACKEND_ORIGIN, LedgerStore
from reelflow.gateway.webhook_dispatcher import BackendCallback, WebhookDispatcher

log = structlog.get_logger("reelflow.backend")
JOB_COMPLETE_PATH = "/video/job/{job_id}/complete"
SCRIPT_COMPLETE_PATH = "/video/script/complete"
JOB_COMPLETE = "backend.job.complete"
SCRIPT_COMPLETE = "backend.script.complete"


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def job_complete_url(backend_base_url: str, job_id: str) -> str:
    return backend_base_url.rstrip("/") + JOB_COMPLETE_PATH.format(job_id=quote(job_id, safe=""))


def script_complete_url(backend_base_url: str) -> str:
    return backend_base_url.rstrip("/") + SCRIPT_COMPLETE_PATH


def job_complete_body(job: RenderJob, *, gateway_base_url: str) -> dict[str, Any]:
    """``{jobId, videoUrl, duration, status}`` for a job that ended; ``videoUrl`` only when it completed with a
    video: the URL the video was published with (the backend's own, under backend_presigned), else the gateway's."""
    video = next((asset for asset in job.assets if asset.kind == AssetKind.VIDEO), None)
    video_url = None
    if job.status == JobStatus.COMPLETED and video is not None:
        video_url = video.url or asset_url(gateway_base_url, job.job_id, AssetKind.VIDEO)
    return {
        "jobId": job.job_id,
        "videoUrl": video_url,
        "duration": job.duration_sec if job.status == JobStatus.COMPLETED else None,
        "status": job.status.value,
    }


def job_complete_callback(job: RenderJob, *, backend_base_url: str, gateway_base_url: str) -> BackendCallback:
    """The job-complete callback of the job's current attempt (one per attempt, whatever replays it)."""
    return BackendCallback(
        key=f"{job.job_id}:{job.attempt}:{JOB_COMPLETE}",
        url=job_complete_url(backend_base_url, job.job_id),
        body=_json(job_complete_body(job, gateway_base_url=gateway_base_url)),
        kind=JOB_COMPLETE,
        job_id=job.job_id,
    )


def script_complete_body(script: Script, material_id: str | int) -> dict[str, Any]:
    """``{material_id, script_id, script, version}``; ``script`` is the chapters and scenes as the contract has
    them."""
    return {
        "material_id": material_id,
        "script_id": script.script_id,
        "script": script.script.model_dump(mode="json"),
        "version": script.version,
    }


def script_complete_callback(script: Script, material_id: str | int, *, backend_base_url: str) -> BackendCallback:
    return BackendCallback(
        key=f"{script.script_id}:{script.version}:{SCRIPT_COMPLETE}",
        url=script_complete_url(backend_base_url),
        body=_json(script_complete_body(script, material_id)),
        kind=SCRIPT_COMPLETE,
    )


class BackendCallbacks:
    """Queues the backend's callbacks as the ledger records a job's end or a written script."""

    def __init__(
        self, store: LedgerStore, dispatcher: WebhookDispatcher, *, backend_base_url: str, gateway_base_url: str
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._backend_base_url = backend_base_url
        self._gateway_base_url = gateway_base_url

    async def job_ended(self, job: RenderJob) -> None:
        """The job-complete callback, for a job the backend started that has just ended (idempotent)."""
        if job.status not in TERMINAL_STATUSES or job.video_id is None:
            return
        if await self._store.job_origin(job.job_id) != BACKEND_ORIGIN:
            return
        if not self._backend_base_url:
            log.warning("backend job ended but BACKEND_BASE_URL is not set: no callback", job_id=job.job_id)
            return
        callback = job_complete_callback(
            job, backend_base_url=self._backend_base_url, gateway_base_url=self._gateway_base_url
        )
        await self._dispatcher.enqueue_backend(callback, video_id=job.video_id)

    async def script_written(self, script: Script) -> None:
        """The script-complete callback, for a script asked for with a ``material_id`` (idempotent)."""
        request = await self._store.script_request(script.script_id)
        if request is None or request.material_id is None:
            return
        if not self._backend_base_url:
            log.warning("script written for the backend but BACKEND_BASE_URL is not set", script_id=script.script_id)
            return
        callback = script_complete_callback(script, request.material_id, backend_base_url=self._backend_base_url)
        await self._dispatcher.enqueue_backend(callback, video_id=script.video_id)
