"""Asset downloads through the gateway: byte ranges as RFC 9110 reads them, and the route streaming a stored file
(whole, in part, HEAD, 416) from a directory store, or redirecting to a public presigned URL."""

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message
from tests.gateway_auth import as_admin_without_accounts

from reelflow.contracts import Asset, AssetKind
from reelflow.gateway.api.errors import status_of
from reelflow.gateway.api.streamed_blob import StreamedBlobResponse
from reelflow.gateway.app import build_api
from reelflow.gateway.asset_delivery import FORMAT_BY_KIND, content_disposition, file_name
from reelflow.gateway.byte_ranges import ByteRange, range_still_applies, requested_range
from reelflow.gateway.refusals import NotFoundError, RangeNotSatisfiableError
from reelflow.gateway.settings import GatewaySettings
from reelflow.runtime.blobs import BlobStream, DirectoryBlobStore
from reelflow.runtime.s3_blobs import PresignedLinks

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=100-", ByteRange(100, 999)),
        ("bytes=-10", ByteRange(990, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=990-5000", ByteRange(990, 999)),
        ("bytes=999-999", ByteRange(999, 999)),
        (" Bytes = 5-6 ", ByteRange(5, 6)),
    ],
)
def test_one_range_is_served_clipped_to_the_file(header: str, expected: ByteRange) -> None:
    assert requested_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header", [None, "", "items=0-5", "bytes=5-2", "bytes=0-1,5-6", "bytes=-", "bytes=a-b", "bytes=0-1-2", "bytes"]
)
def test_a_range_that_is_not_one_byte_range_gets_the_whole_file(header: str | None) -> None:
    assert requested_range(header, SIZE) is None


@pytest.mark.parametrize(("header", "size"), [("bytes=1000-", SIZE), ("bytes=5000-6000", SIZE), ("bytes=-0", SIZE)])
def test_a_range_past_the_end_is_refused_with_416_naming_the_size(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiableError) as refused:
        requested_range(header, size)
    assert status_of(refused.value) == 416
    assert refused.value.response_headers == {"Content-Range": f"bytes */{size}"}


def test_if_range_keeps_the_range_only_for_the_same_file() -> None:
    assert range_still_applies(None, '"abc"') and range_still_applies('"abc"', '"abc"')
    assert not range_still_applies('"old"', '"abc"')
    assert not range_still_applies("Wed, 21 Oct 2015 07:28:00 GMT", '"abc"')


def test_every_asset_kind_has_a_format_and_a_safe_file_name() -> None:
    assert set(FORMAT_BY_KIND) == set(AssetKind)
    assert file_name('j"1/../x', AssetKind.VIDEO) == "j_1_.._x.mp4"
    assert content_disposition("j1", AssetKind.VIDEO, download=False) == 'inline; filename="j1.mp4"'
    assert content_disposition("j1", AssetKind.VIDEO, download=True) == 'attachment; filename="j1.mp4"'
    assert content_disposition("j1", AssetKind.SUBTITLES_SRT, download=False).startswith("attachment")


# ---- through the API -------------------------------------------------------------------------------------------
CONTENT = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes: more than one 256-byte pattern, not a round number
JOB_ID = "job-1"


class OneJobsAssets:
    """The job commands as far as the assets route uses them: job-1 has a stored video and a thumbnail the store
    lost; anything else is a 404 like the real commands answer."""

    def __init__(self, video: Asset, lost: Asset) -> None:
        self._assets = {AssetKind.VIDEO: video, AssetKind.THUMBNAIL: lost}

    async def asset(self, job_id: str, kind: AssetKind) -> Asset:
        if job_id != JOB_ID or kind not in self._assets:
            raise NotFoundError(f"render job {job_id} has no {kind.value} asset")
        return self._assets[kind]


def _asset(kind: AssetKind, key: str, content: bytes) -> Asset:
    return Asset(
        kind=kind,
        bucket="media",
        key=key,
        size_bytes=len(content),
        content_type="application/octet-stream",
        sha256=hashlib.sha256(content).hexdigest(),
    )


@pytest.fixture
async def store(tmp_path: Path) -> DirectoryBlobStore:
    blobs = DirectoryBlobStore(tmp_path)
    await blobs.put_bytes("media", "videos/v/s/job-1/video.mp4", CONTENT, "video/mp4")
    return blobs


def _api(blobs: DirectoryBlobStore, *, public_links: PresignedLinks | None = None) -> FastAPI:
    app = build_api()
    video = _asset(AssetKind.VIDEO, "videos/v/s/job-1/video.mp4", CONTENT)
    lost = _asset(AssetKind.THUMBNAIL, "videos/v/s/job-1/thumb.jpg", b"jpeg")
    app.state.gateway = SimpleNamespace(
        settings=GatewaySettings(asset_read_timeout_sec=5),
        runtime=SimpleNamespace(blobs=blobs),
        jobs=OneJobsAssets(video, lost),
        public_links=public_links,
    )
    as_admin_without_accounts(app)
    return app


@pytest.fixture
async def client(store: DirectoryBlobStore) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_api(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def test_the_whole_file_with_its_type_length_etag_and_disposition(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/assets/{JOB_ID}/video")
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{hashlib.sha256(CONTENT).hexdigest()}"'
    assert response.headers["content-disposition"] == f'inline; filename="{JOB_ID}.mp4"'
    download = await client.get(f"/api/assets/{JOB_ID}/video", params={"download": "1"})
    assert download.headers["content-disposition"] == f'attachment; filename="{JOB_ID}.mp4"'


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, len(CONTENT) - 1),
        ("bytes=-4", len(CONTENT) - 4, len(CONTENT) - 1),
    ],
)
async def test_a_range_is_a_206_with_exactly_those_bytes(
    client: httpx.AsyncClient, header: str, start: int, end: int
) -> None:
    response = await client.get(f"/api/assets/{JOB_ID}/video", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == CONTENT[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(CONTENT)}"
    assert response.headers["content-length"] == str(end - start + 1)


async def test_a_range_past_the_end_is_a_416_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/assets/{JOB_ID}/video", headers={"Range": f"bytes={len(CONTENT)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(CONTENT)}"
    assert response.json()["error"]["code"] == "RANGE_NOT_SATISFIABLE"


async def test_a_stale_if_range_gets_the_whole_file(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/assets/{JOB_ID}/video", headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert response.status_code == 200 and response.content == CONTENT


@pytest.mark.parametrize(
    ("if_none_match", "status"), [("ETAG", 304), ("W/ETAG", 304), ('"old", ETAG', 304), ("*", 304), ('"old"', 200)]
)
async def test_a_copy_the_client_already_has_is_a_304_without_a_body(
    client: httpx.AsyncClient, if_none_match: str, status: int
) -> None:
    etag = f'"{hashlib.sha256(CONTENT).hexdigest()}"'
    response = await client.get(
        f"/api/assets/{JOB_ID}/video", headers={"If-None-Match": if_none_match.replace("ETAG", etag)}
    )
    assert response.status_code == status
    assert response.headers["etag"] == etag
    assert response.content == (b"" if status == 304 else CONTENT)


async def test_head_answers_the_headers_of_get_without_a_body(client: httpx.AsyncClient) -> None:
    response = await client.head(f"/api/assets/{JOB_ID}/video", headers={"Range": "bytes=5-"})
    assert response.status_code == 206
    assert response.headers["content-length"] == str(len(CONTENT) - 5)
    assert response.content == b""


@pytest.mark.parametrize("path", ["/api/assets/job-2/video", f"/api/assets/{JOB_ID}/chapters"])
async def test_no_such_job_or_asset_is_a_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


async def test_a_recorded_asset_the_store_lost_is_a_404_not_a_broken_stream(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/assets/{JOB_ID}/thumbnail")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


async def test_with_a_public_s3_url_the_answer_is_a_redirect_signed_for_that_host(store: DirectoryBlobStore) -> None:
    settings = GatewaySettings(public_s3_url="https://media.example.com")
    links = PresignedLinks(settings, settings.public_s3_url)
    transport = httpx.ASGITransport(app=_api(store, public_links=links))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.get(f"/api/assets/{JOB_ID}/video", params={"download": "1"})
    assert response.status_code == 302
    location = urlparse(response.headers["location"])
    assert (location.scheme, location.netloc) == ("https", "media.example.com")
    assert location.path == "/media/videos/v/s/job-1/video.mp4"
    query = parse_qs(location.query)
    assert "X-Amz-Signature" in query
    assert query["response-content-disposition"] == [f'attachment; filename="{JOB_ID}.mp4"']


@pytest.mark.parametrize("url", ["ftp://media.example.com", "https://media.example.com/s3", "media.example.com"])
def test_a_public_s3_url_must_be_an_endpoint(url: str) -> None:
    with pytest.raises(ValueError, match="REELFLOW_PUBLIC_S3_URL"):
        GatewaySettings(public_s3_url=url)


async def test_a_client_that_leaves_mid_download_stops_the_read_and_frees_the_stream() -> None:
    chunks_read = 0
    closed = asyncio.Event()

    def read_chunk() -> bytes:
        nonlocal chunks_read
        chunks_read += 1
        time.sleep(0.01)
        return b"x" * 1024

    stream = BlobStream(
        1024 * 1000, read_chunk=read_chunk, close=lambda: closed.set(), what="read of m/k", read_timeout_sec=5
    )
    response = StreamedBlobResponse(stream, status_code=200, headers={"Content-Length": str(1024 * 1000)})
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(0.1)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "asgi": {"spec_version": "2.3"}}
    await asyncio.wait_for(response(scope, receive, send), timeout=5)
    assert closed.is_set()
    assert 0 < chunks_read < 1000, "the rest of the file was never read"
