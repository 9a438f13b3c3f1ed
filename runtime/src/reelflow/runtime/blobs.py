"""Blob storage for media: what every store offers (:class:`BlobStore`), and the directory twin of the S3 store.

The S3 store itself is in :mod:`reelflow.runtime.s3_blobs`, so code that only handles blobs (the compose engine
run on its own, the tests' directory stores) does not load the S3 client.
"""

import asyncio
import hashlib
import mimetypes
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog

from reelflow.runtime.failures import StorageUploadError

log = structlog.get_logger("reelflow.blobs")
HASH_CHUNK_BYTES = 1024 * 1024
# What a streamed read holds in memory at once: big enough for few round trips, small enough for many readers.
STREAM_CHUNK_BYTES = 256 * 1024
# DirectoryBlobStore's own folders beside the buckets: writes in progress, and each object's content type.
INCOMING_FOLDER = ".incoming"
CONTENT_TYPES_FOLDER = ".content-types"


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
            except OSError as exc:
                log.warning("blob read failed", what=self._what, error=str(exc))
                raise StorageUploadError(f"{self._what} failed ({type(exc).__name__})") from exc
            if not chunk:
                raise StorageUploadError(f"{self._what} ended {remaining} bytes early")
            chunk = chunk[:remaining]
            remaining -= len(chunk)
            yield chunk

    async def close(self) -> None:
        await asyncio.to_thread(self._close)


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
