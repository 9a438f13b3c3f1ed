"""Blob storage for media: an S3 client built on ``minio`` (with timeouts and retries), and a directory twin."""

import asyncio
import hashlib
import io
import mimetypes
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import urlparse

import structlog
import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error

from reelflow.runtime.failures import StorageUploadError
from reelflow.runtime.settings import ServiceSettings

log = structlog.get_logger("reelflow.blobs")
HASH_CHUNK_BYTES = 1024 * 1024
# What a streamed read holds in memory at once: big enough for few round trips, small enough for many readers.
STREAM_CHUNK_BYTES = 256 * 1024
# The codes S3 servers answer for a key that holds nothing.
MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})
# DirectoryBlobStore's own folders beside the buckets: writes in progress, and each object's content type.
INCOMING_FOLDER = ".incoming"
CONTENT_TYPES_FOLDER = ".content-types"
T = TypeVar("T")


@dataclass(frozen=True)
class BlobInfo:
    size_bytes: int
    content_type: str


@dataclass(frozen=True)
class BlobListing:
    key: str
    modified: datetime


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def work_prefix(job_id: str, attempt: int) -> str:
    """Scratch space of one job attempt in the work bucket (DESIGN §5)."""
    return f"jobs/{job_id}/{attempt}/"


class BlobStream:
    """Part of a stored object, open for reading chunk by chunk, so a whole video is never held in memory.

    Each chunk must arrive within ``read_timeout_sec``: a stalled store fails the read instead of hanging its
    reader. ``close`` frees the connection (or file) whether or not the part was read to its end.
    """

    def __init__(
        self,
        length: int,
        *,
        read_chunk: Callable[[], bytes],
        close: Callable[[], None],
        what: str,
        read_timeout_sec: float,
    ) -> None:
        self.length = length
        self._read_chunk = read_chunk
        self._close = close
        self._what = what
        self._read_timeout_sec = read_timeout_sec

    async def chunks(self) -> AsyncIterator[bytes]:
        """The part's bytes in order, exactly ``length`` of them; a store that sends fewer fails the read."""
        remaining = self.length
        while remaining > 0:
            try:
                chunk = await asyncio.wait_for(asyncio.to_thread(self._read_chunk), self._read_timeout_sec)
            except TimeoutError as exc:
                log.warning("blob read stalled", what=self._what, timeout_sec=self._read_timeout_sec)
                raise StorageUploadError(
                    f"{self._what} stalled: no data within {self._read_timeout_sec:g} s; the media store may be down"
                ) from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                log.warning("blob read failed", what=self._what, error=str(exc))
                raise StorageUploadError(f"{self._what} failed ({type(exc).__name__})") from exc
            if not chunk:
                raise StorageUploadError(f"{self._what} ended {remaining} bytes early")
            chunk = chunk[:remaining]
            remaining -= len(chunk)
            yield chunk

    async def close(self) -> None:
        await asyncio.to_thread(self._close)


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


class BlobStore(Protocol):
    async def ensure_buckets(self, *buckets: str) -> None: ...
    async def put_file(self, bucket: str, key: str, path: Path, content_type: str) -> None: ...
    async def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None: ...
    async def get_file(self, bucket: str, key: str, path: Path) -> None: ...
    async def get_bytes(self, bucket: str, key: str) -> bytes: ...
    async def stat(self, bucket: str, key: str) -> BlobInfo | None: ...
    async def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None: ...
    async def delete_prefix(self, bucket: str, prefix: str) -> int: ...
    async def list_keys(self, bucket: str, prefix: str) -> list[BlobListing]: ...
    def presigned_get_url(self, bucket: str, key: str, expires: timedelta) -> str: ...
    async def open_range(
        self, bucket: str, key: str, *, start: int, length: int, read_timeout_sec: float
    ) -> BlobStream | None: ...


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

        return BlobStream(
            length,
            read_chunk=lambda: bytes(response.read(min(STREAM_CHUNK_BYTES, length))),
            close=close,
            what=what,
            read_timeout_sec=read_timeout_sec,
        )


class DirectoryBlobStore:
    """Buckets as folders on local disk: REELFLOW_STORAGE_PROVIDER=local (one machine whose services all see the
    directory), and handler tests without S3.

    Several processes share it, so a write lands whole or not at all: the file is written under ``.incoming`` and
    renamed into place. Each object's content type is kept beside it, under ``.content-types`` (the folders that
    start with a dot are not buckets).
    """

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, bucket: str, key: str) -> Path:
        bucket_root = (self._root / bucket).resolve()
        path = (bucket_root / key).resolve()
        if not path.is_relative_to(bucket_root) or bucket.startswith("."):
            raise StorageUploadError(f"key {key!r} escapes bucket {bucket!r}", retryable=False)
        return path

    def _type_path(self, bucket: str, key: str) -> Path:
        return self._root / CONTENT_TYPES_FOLDER / self._path(bucket, key).relative_to(self._root.resolve())

    def _write(self, bucket: str, key: str, content_type: str, write: Callable[[Path], object]) -> None:
        """Write through ``write(temporary path)``, then move the file and its content type into place."""
        target = self._path(bucket, key)
        incoming = self._root / INCOMING_FOLDER
        incoming.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=incoming, delete=False) as handle:
            temporary = Path(handle.name)
        try:
            write(temporary)
            type_path = self._type_path(bucket, key)
            type_path.parent.mkdir(parents=True, exist_ok=True)
            type_path.write_text(content_type)
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary.replace(target)
        finally:
            temporary.unlink(missing_ok=True)

    def _content_type(self, bucket: str, key: str) -> str:
        try:
            return self._type_path(bucket, key).read_text()
        except FileNotFoundError:
            return mimetypes.guess_type(key)[0] or "application/octet-stream"

    async def ensure_buckets(self, *buckets: str) -> None:
        for bucket in buckets:
            await asyncio.to_thread((self._root / bucket).mkdir, parents=True, exist_ok=True)

    async def put_file(self, bucket: str, key: str, path: Path, content_type: str) -> None:
        await asyncio.to_thread(self._write, bucket, key, content_type, lambda to: shutil.copyfile(path, to))

    async def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, bucket, key, content_type, lambda to: to.write_bytes(data))

    async def get_file(self, bucket: str, key: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, self._path(bucket, key), path)

    async def get_bytes(self, bucket: str, key: str) -> bytes:
        return await asyncio.to_thread(self._path(bucket, key).read_bytes)

    async def stat(self, bucket: str, key: str) -> BlobInfo | None:
        path = self._path(bucket, key)
        if not path.is_file():
            return None
        return BlobInfo(size_bytes=path.stat().st_size, content_type=self._content_type(bucket, key))

    async def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
        source = self._path(src_bucket, src_key)
        content_type = self._content_type(src_bucket, src_key)
        await asyncio.to_thread(self._write, dst_bucket, dst_key, content_type, lambda to: shutil.copyfile(source, to))

    def _files(self, bucket: str, prefix: str) -> list[tuple[str, Path]]:
        base = self._root / bucket
        return [
            (key, path)
            for path in base.rglob("*")
            if path.is_file() and (key := path.relative_to(base).as_posix()).startswith(prefix)
        ]

    async def delete_prefix(self, bucket: str, prefix: str) -> int:
        def delete() -> int:
            victims = self._files(bucket, prefix)
            for key, path in victims:
                path.unlink(missing_ok=True)
                self._type_path(bucket, key).unlink(missing_ok=True)
            return len(victims)

        return await asyncio.to_thread(delete)

    async def list_keys(self, bucket: str, prefix: str) -> list[BlobListing]:
        def listing() -> list[BlobListing]:
            return [
                BlobListing(key=key, modified=datetime.fromtimestamp(path.stat().st_mtime, UTC))
                for key, path in self._files(bucket, prefix)
            ]

        return await asyncio.to_thread(listing)

    def presigned_get_url(self, bucket: str, key: str, expires: timedelta) -> str:
        return self._path(bucket, key).as_uri()

    async def open_range(
        self, bucket: str, key: str, *, start: int, length: int, read_timeout_sec: float
    ) -> BlobStream | None:
        if start < 0 or length < 1:
            raise ValueError(f"a ranged read needs start >= 0 and length >= 1, got {start}, {length}")
        path = self._path(bucket, key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            return None
        await asyncio.to_thread(handle.seek, start)
        return BlobStream(
            length,
            read_chunk=lambda: handle.read(STREAM_CHUNK_BYTES),
            close=handle.close,
            what=f"read of {bucket}/{key}",
            read_timeout_sec=read_timeout_sec,
        )


def blob_store_for(settings: ServiceSettings) -> BlobStore:
    """The media store REELFLOW_STORAGE_PROVIDER names: a directory for ``local``, else S3 (``backend_presigned``
    keeps its media in S3 too; only the finished assets also go to the backend)."""
    if settings.storage_provider == "local":
        return DirectoryBlobStore(settings.storage_local_dir)
    return S3BlobStore(settings)
