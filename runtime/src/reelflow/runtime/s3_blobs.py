"""The S3 media store, through the ``minio`` client with timeouts and retries; and the choice between it and
the directory store (:func:`blob_store_for`)."""

import asyncio
import io
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import structlog
import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error

from reelflow.runtime.blobs import STREAM_CHUNK_BYTES, BlobInfo, BlobListing, BlobStore, BlobStream, DirectoryBlobStore
from reelflow.runtime.failures import StorageUploadError
from reelflow.runtime.settings import ServiceSettings

log = structlog.get_logger("reelflow.blobs")
# The codes S3 servers answer for a key that holds nothing.
MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})
T = TypeVar("T")


def _minio_client(settings: ServiceSettings, endpoint_url: str, http: urllib3.PoolManager | None = None) -> Minio:
    endpoint = urlparse(endpoint_url)
    if not endpoint.hostname or endpoint.scheme not in ("http", "https"):
        raise ValueError(f"an S3 endpoint must look like http(s)://host:port, got {endpoint_url!r}")
    return Minio(
        endpoint.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=endpoint.scheme == "https",
        region=settings.s3_region,
        http_client=http,
    )


class PresignedLinks:
    """Presigned GET URLs signed for an S3 endpoint of their own: the address clients outside the cluster reach,
    when it is not the one the services call. Signing is local (the region is set), so no request is made."""

    def __init__(self, settings: ServiceSettings, endpoint_url: str) -> None:
        self._client = _minio_client(settings, endpoint_url)

    def presigned_get_url(
        self, bucket: str, key: str, expires: timedelta, *, response_headers: Mapping[str, str] | None = None
    ) -> str:
        """A URL that reads ``bucket/key`` until ``expires``; S3 answers it with ``response_headers`` (only the
        ``response-content-type`` / ``response-content-disposition`` family) in place of the stored ones."""
        return str(
            self._client.presigned_get_object(
                bucket, key, expires=expires, response_headers=dict(response_headers or {})
            )
        )


class S3BlobStore:
    """S3/MinIO through the ``minio`` client. The client is blocking, so every call runs in a worker thread."""

    def __init__(self, settings: ServiceSettings) -> None:
        endpoint = urlparse(settings.s3_endpoint)
        if not endpoint.hostname:
            raise ValueError(f"REELFLOW_S3_ENDPOINT must look like http://host:port, got {settings.s3_endpoint!r}")
        timeout = settings.s3_timeout_sec
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
            retries=urllib3.Retry(total=3, backoff_factor=0.3, status_forcelist=(500, 502, 503, 504)),
            maxsize=16,
        )
        self._client = _minio_client(settings, settings.s3_endpoint, http)
        self._endpoint = settings.s3_endpoint

    async def _call(self, what: str, function: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(function)
        except (S3Error, urllib3.exceptions.HTTPError, OSError) as exc:
            # The message reaches job errors and API answers: it names what failed, never the endpoint (the
            # client libraries' own texts carry host and port); the log keeps the whole story.
            reason = exc.code if isinstance(exc, S3Error) else type(exc).__name__
            log.warning("S3 call failed", what=what, endpoint=self._endpoint, error=str(exc))
            raise StorageUploadError(f"S3 {what} failed ({reason}); the media store may be down") from exc

    async def ensure_buckets(self, *buckets: str) -> None:
        def create() -> None:
            for bucket in buckets:
                if not self._client.bucket_exists(bucket):
                    try:
                        self._client.make_bucket(bucket)
                    except S3Error as exc:
                        if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                            raise

        await self._call(f"creating buckets {', '.join(buckets)}", create)

    async def put_file(self, bucket: str, key: str, path: Path, content_type: str) -> None:
        await self._call(
            f"upload of {bucket}/{key}",
            lambda: self._client.fput_object(bucket, key, str(path), content_type=content_type),
        )

    async def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        await self._call(
            f"upload of {bucket}/{key}",
            lambda: self._client.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type),
        )

    async def get_file(self, bucket: str, key: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        await self._call(f"download of {bucket}/{key}", lambda: self._client.fget_object(bucket, key, str(path)))

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        def read() -> bytes:
            response = self._client.get_object(bucket, key)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        return await self._call(f"download of {bucket}/{key}", read)

    async def stat(self, bucket: str, key: str) -> BlobInfo | None:
        def look() -> BlobInfo | None:
            try:
                found = self._client.stat_object(bucket, key)
            except S3Error as exc:
                if exc.code in MISSING_OBJECT_CODES:
                    return None
                raise
            return BlobInfo(size_bytes=found.size or 0, content_type=found.content_type or "")

        return await self._call(f"stat of {bucket}/{key}", look)

    async def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
        await self._call(
            f"copy of {src_bucket}/{src_key} to {dst_bucket}/{dst_key}",
            lambda: self._client.copy_object(dst_bucket, dst_key, CopySource(src_bucket, src_key)),
        )

    async def delete_prefix(self, bucket: str, prefix: str) -> int:
        def delete() -> int:
            names = [o.object_name for o in self._client.list_objects(bucket, prefix=prefix, recursive=True)]
            for name in names:
                if name:
                    self._client.remove_object(bucket, name)
            return len(names)

        return await self._call(f"cleanup of {bucket}/{prefix}", delete)

    async def list_keys(self, bucket: str, prefix: str) -> list[BlobListing]:
        def listing() -> list[BlobListing]:
            return [
                BlobListing(key=o.object_name, modified=o.last_modified or datetime.now(UTC))
                for o in self._client.list_objects(bucket, prefix=prefix, recursive=True)
                if o.object_name
            ]

        return await self._call(f"listing of {bucket}/{prefix}", listing)

    def presigned_get_url(self, bucket: str, key: str, expires: timedelta) -> str:
        return str(self._client.presigned_get_object(bucket, key, expires=expires))

    async def open_range(
        self, bucket: str, key: str, *, start: int, length: int, read_timeout_sec: float
    ) -> BlobStream | None:
        """``length`` bytes of the object from ``start`` (a ranged GET), open for streaming; None: no such object.

        Opening is bounded by the client's own timeouts (``REELFLOW_S3_TIMEOUT_SEC``); each chunk after that by
        ``read_timeout_sec``.
        """
        if start < 0 or length < 1:
            raise ValueError(f"a ranged read needs start >= 0 and length >= 1, got {start}, {length}")
        what = f"S3 download of {bucket}/{key}"

        def open_object() -> urllib3.BaseHTTPResponse | None:
            try:
                return self._client.get_object(bucket, key, offset=start, length=length)
            except S3Error as exc:
                if exc.code in MISSING_OBJECT_CODES:
                    return None
                raise

        response = await self._call(f"download of {bucket}/{key}", open_object)
        if response is None:
            return None

        def close() -> None:
            response.close()
            response.release_conn()

        def read_chunk() -> bytes:
            try:
                return bytes(response.read(min(STREAM_CHUNK_BYTES, length)))
            except urllib3.exceptions.HTTPError as exc:  # BlobStream fails a read on OSError, as a file's would
                raise OSError(f"{type(exc).__name__}: {exc}") from exc

        return BlobStream(
            length,
            read_chunk=read_chunk,
            close=close,
            what=what,
            read_timeout_sec=read_timeout_sec,
        )


def blob_store_for(settings: ServiceSettings) -> BlobStore:
    """The media store REELFLOW_STORAGE_PROVIDER names: a directory for ``local``, else S3 (``backend_presigned``
    keeps its media in S3 too; only the finished assets also go to the backend)."""
    if settings.storage_provider == "local":
        return DirectoryBlobStore(settings.storage_local_dir)
    return S3BlobStore(settings)
