"""Where a job's finished assets are published once they are in the media store: one interface, chosen by
REELFLOW_STORAGE_PROVIDER.

- ``s3`` and ``local``: the media store is the destination (an S3 bucket, or a directory for one machine: the
  runtime picks the store, see ``reelflow.runtime.s3_blobs.blob_store_for``). Nothing more is done, and clients
  download each asset through the gateway.
- ``backend_presigned``: the Spring backend keeps the videos. For each asset the storage service asks it for an
  upload URL, ``POST {BACKEND_BASE_URL}/internal/storage/presigned-uploads`` with
  ``{jobId, videoId, scriptId, kind, fileName, contentType, sizeBytes, sha256}``, and the backend answers
  ``{uploadUrl, url, headers?}``: a presigned PUT URL, the asset's lasting URL, and any headers the PUT must carry.
  The asset is streamed from the media store to ``uploadUrl`` (Content-Type and Content-Length as announced), and
  ``url`` becomes the asset's URL in ``rf.render.completed`` and in the backend's job callback. The media store
  keeps its copy, which the studio's player and the YouTube uploader read.

Every request has the backend timeout (BACKEND_TIMEOUT_SEC, per connect, read and write). A redelivered step asks
for fresh URLs and PUTs again: a presigned PUT replaces what an earlier try left.
"""

from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import urlparse

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reelflow.contracts import Asset
from reelflow.runtime.backend_connection import BackendConnection
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.failures import StorageUploadError
from reelflow.storage.media_keys import ASSET_FILES
from reelflow.storage.settings import StorageSettings

log = structlog.get_logger("reelflow.storage.destinations")
PRESIGNED_UPLOADS_PATH = "/internal/storage/presigned-uploads"
# Backend answers that no retry can change: the token, the route or the request is wrong.
REFUSALS = frozenset({400, 401, 403, 404, 405, 410, 422})
MAX_ANSWER_CHARS = 200


class AssetDestination(Protocol):
    async def publish(self, asset: Asset, *, job_id: str, video_id: str, script_id: str | None) -> Asset:
        """Publish ``asset`` (already in the media store) and return it as published, with its URL when the
        destination has one of its own."""
        ...


class MediaStoreDestination:
    """``s3`` and ``local``: the asset is published where it is; the gateway hands out its download URL."""

    async def publish(self, asset: Asset, *, job_id: str, video_id: str, script_id: str | None) -> Asset:
        return asset


class PresignedUpload(BaseModel):
    """The backend's answer to a request for an upload URL (fields it adds are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    upload_url: str = Field(alias="uploadUrl", min_length=1)
    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)


def upload_request_body(asset: Asset, *, job_id: str, video_id: str, script_id: str | None) -> dict[str, Any]:
    """What the backend is told about the asset it hands out an upload URL for."""
    return {
        "jobId": job_id,
        "videoId": video_id,
        "scriptId": script_id,
        "kind": asset.kind.value,
        "fileName": ASSET_FILES[asset.kind][0],
        "contentType": asset.content_type,
        "sizeBytes": asset.size_bytes,
        "sha256": asset.sha256,
    }


def _is_http_url(value: str) -> bool:
    url = urlparse(value)
    return url.scheme in ("http", "https") and bool(url.hostname)


def read_presigned_upload(response: httpx.Response) -> PresignedUpload:
    """The backend's answer, or a StorageUploadError that says what was wrong with it."""
    where = f"the backend's POST {PRESIGNED_UPLOADS_PATH}"
    if response.status_code in REFUSALS:
        raise StorageUploadError(
            f"{where} answered {response.status_code} ({response.text[:MAX_ANSWER_CHARS]!r}); check BACKEND_BASE_URL "
            "and BACKEND_API_TOKEN, then retry the job",
            retryable=False,
        )
    if response.status_code != httpx.codes.OK:
        raise StorageUploadError(f"{where} answered {response.status_code}; it is retried")
    try:
        answer = PresignedUpload.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        raise StorageUploadError(
            f"{where} answered without a JSON {{uploadUrl, url}}: {response.text[:MAX_ANSWER_CHARS]!r}"
        ) from exc
    for name, value in (("uploadUrl", answer.upload_url), ("url", answer.url)):
        if not _is_http_url(value):
            raise StorageUploadError(f"{where} answered a {name} that is not an http(s) URL: {value[:80]!r}")
    return answer


class BackendPresignedDestination:
    """``backend_presigned``: each asset is PUT where the backend's presigned URL says."""

    def __init__(self, connection: BackendConnection, blobs: BlobStore, *, read_timeout_sec: float) -> None:
        self._connection = connection
        self._blobs = blobs
        self._read_timeout_sec = read_timeout_sec

    async def publish(self, asset: Asset, *, job_id: str, video_id: str, script_id: str | None) -> Asset:
        body = upload_request_body(asset, job_id=job_id, video_id=video_id, script_id=script_id)
        async with httpx.AsyncClient(timeout=self._connection.timeout_sec) as http:
            try:
                response = await http.post(
                    self._connection.url(PRESIGNED_UPLOADS_PATH), json=body, headers=self._connection.headers()
                )
            except httpx.HTTPError as exc:
                raise StorageUploadError(
                    f"asking the backend for an upload URL of {asset.kind.value} failed ({type(exc).__name__}); "
                    "it is retried"
                ) from exc
            upload = read_presigned_upload(response)
            await self._put(http, asset, upload)
        log.info("asset uploaded to the backend", job_id=job_id, kind=asset.kind.value, size=asset.size_bytes)
        return asset.model_copy(update={"url": upload.url})

    async def _put(self, http: httpx.AsyncClient, asset: Asset, upload: PresignedUpload) -> None:
        headers = {**upload.headers, "content-type": asset.content_type, "content-length": str(asset.size_bytes)}
        try:
            response = await http.put(upload.upload_url, content=self._content(asset), headers=headers)
        except httpx.HTTPError as exc:
            raise StorageUploadError(
                f"uploading {asset.kind.value} to the backend's presigned URL failed ({type(exc).__name__}); "
                "it is retried with a fresh URL"
            ) from exc
        if not response.is_success:
            raise StorageUploadError(
                f"the backend's presigned URL refused {asset.kind.value} with {response.status_code} "
                f"({response.text[:MAX_ANSWER_CHARS]!r}); it is retried with a fresh URL"
            )

    async def _content(self, asset: Asset) -> AsyncIterator[bytes]:
        """The asset's bytes from the media store, a chunk at a time."""
        if asset.size_bytes == 0:
            return
        stream = await self._blobs.open_range(
            asset.bucket, asset.key, start=0, length=asset.size_bytes, read_timeout_sec=self._read_timeout_sec
        )
        if stream is None:
            raise StorageUploadError(f"{asset.bucket}/{asset.key} vanished before it was uploaded to the backend")
        try:
            async for chunk in stream.chunks():
                yield chunk
        finally:
            await stream.close()


def destination_for(settings: StorageSettings, blobs: BlobStore) -> AssetDestination:
    """The destination REELFLOW_STORAGE_PROVIDER names (the settings refuse backend_presigned without a backend)."""
    connection = settings.backend_connection()
    if settings.storage_provider == "backend_presigned" and connection is not None:
        return BackendPresignedDestination(connection, blobs, read_timeout_sec=settings.s3_timeout_sec)
    return MediaStoreDestination()
