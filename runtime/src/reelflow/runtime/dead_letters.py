"""What a service publishes when it gives up on a message: a dead letter, and the matching failure event."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic

from reelflow.contracts import DeadLetter, ErrorInfo, Event, RenderFailed, ScriptFailed
from reelflow.contracts.validation import describe_problems, problems_of

PAYLOAD_KEEP_CHARS = 64_000


def describe_validation_error(error: pydantic.ValidationError) -> str:
    """One line naming each field path: ``spec.script.chapters: List should have at least 1 item``."""
    return describe_problems(problems_of(error))


def _decode(payload: bytes) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class MessageIds:
    """What a message is about, read from its body, else from its headers (for a body that cannot be read)."""

    job_id: str | None = None
    attempt: int | None = None
    video_id: str | None = None
    script_id: str | None = None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _ids_from_headers(headers: Mapping[str, str]) -> tuple[str | None, int | None]:
    """``Nats-Msg-Id`` is ``{id}:{attempt}:{ce-type}``; ``ce-subject`` is the job or script id."""
    entity, attempt_text = _text(headers.get("ce-subject")), None
    parts = str(headers.get("Nats-Msg-Id", "")).split(":")
    if len(parts) >= 3:
        entity = entity or _text(parts[0])
        attempt_text = parts[1]
    attempt = int(attempt_text) if attempt_text and attempt_text.isdigit() and int(attempt_text) >= 1 else None
    return entity, attempt


def message_ids(body: dict[str, Any], headers: Mapping[str, str]) -> MessageIds:
    nested = body.get("script")
    script: dict[str, Any] = nested if isinstance(nested, dict) else body
    header_entity, header_attempt = _ids_from_headers(headers)
    subject_type = str(headers.get("ce-type", ""))
    is_script = subject_type.startswith("reelflow.script.") or ("script_id" in script and "job_id" not in body)
    if is_script:
        return MessageIds(
            video_id=_text(script.get("video_id")), script_id=_text(script.get("script_id")) or header_entity
        )
    attempt = body.get("attempt")
    return MessageIds(
        job_id=_text(body.get("job_id")) or header_entity,
        attempt=attempt if isinstance(attempt, int) and attempt >= 1 else (header_attempt or 1),
        video_id=_text(body.get("video_id")),
        script_id=_text(body.get("script_id")),
    )


def failure_event_for(subject: str, ids: MessageIds, error: ErrorInfo) -> Event | None:
    """The failure event a final failure of ``subject`` should produce, or None when the ids are unreadable."""
    if subject.startswith("rf.script."):
        if ids.video_id and ids.script_id:
            return ScriptFailed(video_id=ids.video_id, script_id=ids.script_id, error=error)
        return None
    if not ids.job_id:
        return None
    return RenderFailed(job_id=ids.job_id, video_id=ids.video_id, attempt=ids.attempt or 1, error=error)


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
    job_id = _text(data.get("job_id")) or _text(data.get("script_id"))
    if job_id is None and msg_id:
        # An unreadable body still names its job in the idempotency key ``{job_id}:{attempt}:{type}``.
        job_id, _ = _ids_from_headers({"Nats-Msg-Id": msg_id})
    return DeadLetter(
        service=service,
        original_subject=subject,
        original_msg_id=msg_id,
        job_id=job_id,
        delivered=delivered,
        error=error,
        payload=payload[:PAYLOAD_KEEP_CHARS].decode(errors="replace"),
        received_at=at,
    )
