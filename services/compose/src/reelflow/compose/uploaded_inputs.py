"""Inputs a lesson names in the media bucket (its music, scene pictures, the brand's logo and font), fetched
for compose."""

from pathlib import Path

from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.failures import MediaInvalidError


async def fetch_upload(blobs: BlobStore, bucket: str, key: str, path: Path, *, what: str) -> Path:
    """An upload (music, a picture, a font) from the media bucket into ``path``; one that is not there fails the
    job (non-retryable), naming ``what`` it was for."""
    if await blobs.stat(bucket, key) is None:
        raise MediaInvalidError(
            f"{what} {key!r} was not found in the media bucket; upload it with POST /api/uploads",
            details={"key": key},
        )
    await blobs.get_file(bucket, key, path)
    return path
