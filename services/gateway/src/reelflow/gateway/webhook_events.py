"""The webhook events reelflow sends and their bodies (pure): ``{"type", "timestamp", "data"}`` in the Standard
Webhooks shape, built from what the ledger recorded.

Each event has a key that names it once (a job attempt's completion, a script version): the delivery queue stores
one delivery per event and target under that key, so an event the ledger sees twice is sent once, and every
target receives the same ``webhook-id`` for it (receivers deduplicate on it).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from reelflow.contracts import JobStatus, Publication, RenderJob, Script


class WebhookEventType(StrEnum):
    SCRIPT_COMPLETED = "script.completed"
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"
    VIDEO_PUBLISHED = "video.published"


# What a job's own callback_url receives; subscriptions choose among all four.
CALLBACK_EVENT_TYPES = frozenset({WebhookEventType.JOB_COMPLETED, WebhookEventType.JOB_FAILED})
JOB_EVENT_BY_STATUS = {
    JobStatus.COMPLETED: WebhookEventType.JOB_COMPLETED,
    JobStatus.FAILED: WebhookEventType.JOB_FAILED,
}


@dataclass(frozen=True)
class WebhookEvent:
    """One event to deliver: its type, the key that names it once, and the JSON body every target receives."""

    event_type: WebhookEventType
    key: str
    body: str

    @property
    def message_id(self) -> str:
        """The ``webhook-id``: the same for every target and every retry of this event."""
        return "msg_" + hashlib.sha256(self.key.encode()).hexdigest()[:32]


def _body(event_type: WebhookEventType, at: datetime, data: dict[str, Any]) -> str:
    return json.dumps({"type": event_type.value, "timestamp": at.isoformat(), "data": data}, separators=(",", ":"))


def asset_path(job_id: str, kind: str) -> str:
    """Where a job's asset is downloaded (a redirect to a presigned URL; it needs the caller's credentials)."""
    return f"/api/assets/{job_id}/{kind}"


def job_event(job: RenderJob, at: datetime) -> WebhookEvent | None:
    """``job.completed`` or ``job.failed`` for a job that just ended so; None for any other status."""
    event_type = JOB_EVENT_BY_STATUS.get(job.status)
    if event_type is None:
        return None
    data: dict[str, Any] = {
        "job_id": job.job_id,
        "video_id": job.video_id,
        "script_id": job.script_id,
        "attempt": job.attempt,
        "status": job.status.value,
        "duration_sec": job.duration_sec,
        "assets": [
            {
                "kind": asset.kind.value,
                "download_path": asset_path(job.job_id, asset.kind.value),
                "size_bytes": asset.size_bytes,
                "content_type": asset.content_type,
                "sha256": asset.sha256,
            }
            for asset in job.assets
        ],
        "publications": [publication.model_dump(mode="json") for publication in job.publications],
    }
    if job.error is not None:
        data["error"] = {"code": str(job.error.code), "message": job.error.message, "step": job.error.step}
    key = f"{job.job_id}:{job.attempt}:{event_type.value}"
    return WebhookEvent(event_type, key, _body(event_type, at, data))


def script_event(script: Script, at: datetime) -> WebhookEvent:
    """``script.completed``: a script version was written (a DRAFT to review, or APPROVED when auto-rendered)."""
    event_type = WebhookEventType.SCRIPT_COMPLETED
    data = {
        "script_id": script.script_id,
        "video_id": script.video_id,
        "version": script.version,
        "status": script.status.value,
        "title": script.title,
    }
    key = f"{script.script_id}:{script.version}:{event_type.value}"
    return WebhookEvent(event_type, key, _body(event_type, at, data))


def published_event(job: RenderJob, publication: Publication, at: datetime) -> WebhookEvent:
    """``video.published``: the uploader put the job's video on a platform (YouTube)."""
    event_type = WebhookEventType.VIDEO_PUBLISHED
    data = {
        "job_id": job.job_id,
        "video_id": job.video_id,
        "attempt": job.attempt,
        "platform": publication.platform,
        "external_id": publication.external_id,
        "url": publication.url,
    }
    key = f"{job.job_id}:{job.attempt}:{event_type.value}:{publication.platform}:{publication.external_id}"
    return WebhookEvent(event_type, key, _body(event_type, at, data))
