"""Taking in one upload: receive it to scratch disk, check it with ffprobe, store it once under its content key."""

import asyncio
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog

from reelflow.gateway.multipart_stream import receive_file
from reelflow.gateway.uploads import (
    UPLOAD_FIELD,
    UploadedMedia,
    check_media,
    checked_font,
    not_accepted,
    stated_extension,
    upload_key,
    uploaded_media,
)
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.failures import MediaInvalidError, StepTimeoutError
from reelflow.runtime.media_probe import MediaInfo, probe_media

log = structlog.get_logger("reelflow.uploads")
PROBE_TIMEOUT_SETTING = "REELFLOW_UPLOAD_PROBE_TIMEOUT_SEC"


@dataclass(frozen=True)
class UploadIntake:
    blobs: BlobStore
    bucket: str
    max_bytes: int
    probe_timeout_sec: float
    scratch_dir: Path | None = None

    async def accept(self, headers: Mapping[str, str], body: AsyncIterator[bytes]) -> UploadedMedia:
        """Store the file of a multipart body, or refuse it (too large, not media, not a clip or music)."""
        with tempfile.TemporaryDirectory(prefix="reelflow-upload-", dir=self.scratch_dir) as folder:
            received = await receive_file(
                headers, body, Path(folder) / "upload", field=UPLOAD_FIELD, max_bytes=self.max_bytes
            )
            # A known extension helps ffprobe pick the demuxer; only allowlisted ones ever reach a file name.
            stated = stated_extension(received.filename)
            path = received.path.rename(received.path.with_suffix(f".{stated}")) if stated else received.path
            head = await asyncio.to_thread(_first_bytes, path)
            checked = checked_font(head, filename=received.filename, size_bytes=received.size_bytes)
            if checked is None:
                info = await self._probe(path, received.filename)
                checked = check_media(info, filename=received.filename)
            key = upload_key(received.sha256, checked.extension)
            stored = await self.blobs.stat(self.bucket, key)
            created = stored is None or stored.size_bytes != received.size_bytes
            if created:
                await self.blobs.put_file(self.bucket, key, path, checked.content_type)
        log.info("upload accepted", media_key=key, size_bytes=received.size_bytes, kind=checked.kind, created=created)
        return uploaded_media(checked, sha256=received.sha256, size_bytes=received.size_bytes, created=created)

    async def _probe(self, path: Path, filename: str) -> MediaInfo:
        """ffprobe's view of the file; its errors name the upload as the user called it, not the scratch file."""
        try:
            return await probe_media(path, timeout_sec=self.probe_timeout_sec)
        except MediaInvalidError as exc:
            said = exc.message.replace(str(path), filename).replace(path.name, filename)
            raise not_accepted(filename, f"it is not a readable video or audio file ({said})") from exc
        except StepTimeoutError as exc:
            raise StepTimeoutError(
                f"{filename!r} could not be checked: ffprobe did not finish within {self.probe_timeout_sec:g}s "
                f"(raise {PROBE_TIMEOUT_SETTING} for very large files)",
                details={"field": UPLOAD_FIELD, "filename": filename},
            ) from exc


def _first_bytes(path: Path, count: int = 12) -> bytes:
    with path.open("rb") as handle:
        return handle.read(count)
