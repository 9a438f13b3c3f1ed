"""The runtime's S3 client on the real S3 server: ranged reads streamed chunk by chunk, and presigned links signed
for an endpoint of their own."""

import hashlib
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from reelflow.local.servers import StackEndpoints
from reelflow.runtime.blobs import STREAM_CHUNK_BYTES, BlobStream
from reelflow.runtime.s3_blobs import PresignedLinks, S3BlobStore
from reelflow.runtime.settings import ServiceSettings

pytestmark = pytest.mark.connected

# Three chunks and a bit, with no repeating pattern a misplaced offset could hide behind.
CONTENT = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(3 * STREAM_CHUNK_BYTES // 32 + 100))


def _settings(stack: StackEndpoints, unique_id: str) -> ServiceSettings:
    return ServiceSettings(
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key,
        s3_secret_key=SecretStr(stack.s3_secret_key),
        media_bucket=f"ranges-{unique_id}",
    )


async def _read(stream: BlobStream) -> bytes:
    try:
        return b"".join([chunk async for chunk in stream.chunks()])
    finally:
        await stream.close()


async def test_a_ranged_read_streams_exactly_that_part(stack: StackEndpoints, unique_id: str) -> None:
    settings = _settings(stack, unique_id)
    blobs = S3BlobStore(settings)
    bucket = settings.media_bucket
    await blobs.ensure_buckets(bucket)
    await blobs.put_bytes(bucket, "videos/v/video.mp4", CONTENT, "video/mp4")

    for start, length in [(0, len(CONTENT)), (1, 10), (STREAM_CHUNK_BYTES - 5, STREAM_CHUNK_BYTES + 10)]:
        stream = await blobs.open_range(bucket, "videos/v/video.mp4", start=start, length=length, read_timeout_sec=10)
        assert stream is not None and stream.length == length
        assert await _read(stream) == CONTENT[start : start + length]
    assert await blobs.open_range(bucket, "videos/v/none.mp4", start=0, length=1, read_timeout_sec=10) is None


async def test_a_presigned_link_is_signed_for_its_own_endpoint_and_answers_as_told(
    stack: StackEndpoints, unique_id: str
) -> None:
    settings = _settings(stack, unique_id)
    blobs = S3BlobStore(settings)
    await blobs.ensure_buckets(settings.media_bucket)
    await blobs.put_bytes(settings.media_bucket, "a/thumb.jpg", b"\xff\xd8jpeg", "application/octet-stream")
    # The stack's endpoint by another name: the signature must hold for the host the link names.
    public = stack.s3_endpoint.replace("127.0.0.1", "localhost")
    url = PresignedLinks(settings, public).presigned_get_url(
        settings.media_bucket,
        "a/thumb.jpg",
        timedelta(minutes=5),
        response_headers={"response-content-type": "image/jpeg"},
    )
    assert url.startswith(public)
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    assert response.status_code == 200 and response.content == b"\xff\xd8jpeg"
