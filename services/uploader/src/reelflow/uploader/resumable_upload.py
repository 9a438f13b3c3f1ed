"""A video's resumable upload to YouTube, in chunks, that survives a network error or a killed uploader.

The protocol (YouTube Data API, "Resumable uploads"): a POST starts a session and answers its URI in
``Location``; each chunk is a PUT with ``Content-Range: bytes a-b/total``, answered 308 with ``Range: bytes=0-n``
(what the server holds) until the last, answered 200 with the video resource. A PUT with ``Content-Range:
bytes */total`` and no body asks a session how far it got. google-api-python-client speaks all of it
(``MediaFileUpload(resumable=True)`` and ``HttpRequest.next_chunk``); this module adds what it leaves to the
caller: the session URI is recorded as soon as it exists, and a later process asks the recorded session for its
offset and hands the library a request positioned there.
"""

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest, MediaFileUpload

from reelflow.runtime.failures import PublishError
from reelflow.uploader.upload_records import UploadRecords, YouTubeUploadRecord
from reelflow.uploader.youtube_calls import YouTubeCalls

if TYPE_CHECKING:
    from googleapiclient._apis.youtube.v3 import YouTubeResource

log = structlog.get_logger("reelflow.uploader.youtube")

VIDEO_PARTS = "snippet,status"
RESUME_INCOMPLETE = 308
SESSION_GONE = frozenset({404, 410})

UploadProgress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class SessionState:
    """What a session holds: the next byte it expects, and the video once the upload had completed."""

    offset: int
    video: dict[str, Any] | None = None


def offset_from_range(range_header: str | None) -> int:
    """``Range: bytes=0-n`` → n + 1; no header means the server holds nothing yet."""
    if not range_header:
        return 0
    try:
        return int(range_header.rsplit("-", 1)[1]) + 1
    except (IndexError, ValueError) as exc:
        raise PublishError(f"YouTube answered an unreadable Range header {range_header!r}") from exc


def session_state(status: int, headers: Mapping[str, str], content: bytes, size: int) -> SessionState | None:
    """The answer to a status query: where to go on from, the finished video, or None when the session is gone.

    Raises ``ValueError`` for any other answer (the caller turns the HTTP error into a failure).
    """
    if status == RESUME_INCOMPLETE:
        return SessionState(offset=offset_from_range(headers.get("range")))
    if status in (200, 201):
        return SessionState(offset=size, video=json.loads(content))
    if status in SESSION_GONE:
        return None
    raise ValueError(f"unexpected status {status}")


async def query_session(request: HttpRequest, session_uri: str, size: int, calls: YouTubeCalls) -> SessionState | None:
    """Ask a recorded session how much of the video it holds."""

    def ask() -> SessionState | None:
        response, content = request.http.request(
            session_uri, method="PUT", headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"}
        )
        try:
            return session_state(int(response.status), response, content, size)
        except ValueError:
            raise HttpError(response, content, uri=session_uri) from None

    return await calls.call("asking YouTube how much of the video it holds", ask)


async def upload_video(
    youtube: "YouTubeResource",
    video: Path,
    resource: dict[str, Any],
    *,
    record: YouTubeUploadRecord,
    records: UploadRecords,
    calls: YouTubeCalls,
    chunk_bytes: int,
    on_progress: UploadProgress,
) -> str:
    """Upload ``video`` (or go on with ``record``'s session) and return the new video's id."""
    media = MediaFileUpload(str(video), mimetype="video/mp4", chunksize=chunk_bytes, resumable=True)
    size = media.size() or 0
    request = youtube.videos().insert(part=VIDEO_PARTS, body=resource, media_body=media)  # type: ignore[arg-type]
    if record.session_uri:
        state = await query_session(request, record.session_uri, size, calls)
        if state is None:
            log.warning("the recorded upload session is gone; starting a new one")
            record.session_uri = None
            await records.save(record)
        elif state.video is not None:
            log.info("the recorded upload session had finished", video_id=state.video.get("id"))
            return str(state.video["id"])
        else:
            log.info("resuming the recorded upload session", offset=state.offset, size=size)
            request.resumable_uri = record.session_uri
            request.resumable_progress = state.offset
            await on_progress(state.offset, size)
    finished: Any = None
    while finished is None:
        try:
            status, finished = await calls.call("uploading the video", request.next_chunk)
        finally:
            if request.resumable_uri and request.resumable_uri != record.session_uri:
                record.session_uri = request.resumable_uri
                await records.save(record)
        if status is not None:
            await on_progress(status.resumable_progress, size)
    return str(finished["id"])
