"""What a service publishes when it gives up on a message: a dead letter, and the matching failure event."""

import json
from datetime import datetime
from typing import Any

import pydantic

from reelflow.contracts import DeadLetter, ErrorInfo, Event, RenderFailed, ScriptFailed

PAYLOAD_KEEP_CHARS = 64_000


def describe_validation_error(error: pydantic.ValidationError) -> str:
    """One line per problem, naming the field path: ``spec.script.chapters: List should have at least 1 item``."""
    parts = []
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"]) or "body"
        parts.append(f"{location}: {problem['msg']}")
    return "; ".join(parts)


def _decode(payload: bytes) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def failure_event_for(subject: str, payload: bytes, error: ErrorInfo) -> Event | None:
    """The failure event a final failure of ``subject`` should produce, or None when the ids are unreadable."""
    data = _decode(payload)
    if subject.startswith("rf.script."):
        nested = data.get("script")
        script: dict[str, Any] = nested if isinstance(nested, dict) else data
        video_id, script_id = script.get("video_id"), script.get("script_id")
        if isinstance(video_id, str) and isinstance(script_id, str) and video_id and script_id:
            return ScriptFailed(video_id=video_id, script_id=script_id, error=error)
        return None
    job_id = data.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        return None
    attempt = data.get("attempt")
    video_id = data.get("video_id")
    return RenderFailed(
        job_id=job_id,
        video_id=video_id if isinstance(video_id, str) else None,
        attempt=attempt if isinstance(attempt, int) and attempt >= 1 else 1,
        error=error,
    )


def dead_letter_for(
    *,
    service: str,
    subject: str,
    payload: bytes,
    msg_id: str | None,
    delivered: int,
    error: ErrorInfo,
    at: datetime,
) -> DeadLetter:
    data = _decode(payload)
    job_id = data.get("job_id") or data.get("script_id")
    return DeadLetter(
        service=service,
        original_subject=subject,
        original_msg_id=msg_id,
        job_id=job_id if isinstance(job_id, str) else None,
        delivered=delivered,
        error=error,
        payload=payload[:PAYLOAD_KEEP_CHARS].decode(errors="replace"),
        received_at=at,
    )
