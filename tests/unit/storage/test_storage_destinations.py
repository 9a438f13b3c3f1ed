"""REELFLOW_STORAGE_PROVIDER=backend_presigned: each finished asset is PUT where the Spring backend's presigned URL
says, against a local fake backend that hands out URLs and refuses a PUT that is not the one it signed."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from tests.fake_spring_backend import SIGNED_PUT_PREFIX, FakeSpringBackend, fake_spring_backend
from tests.unit.storage.test_storage_handler import (
    EXPECTED_NAMES,
    SCRATCH_FILES,
    _silent_progress,
    described_files,
    fill_scratch_of,
    render_composed,
)

from reelflow.contracts import AssetKind, RenderStored
from reelflow.runtime.backend_connection import BackendConnection
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.failures import StorageUploadError
from reelflow.storage.asset_destinations import (
    PRESIGNED_UPLOADS_PATH,
    BackendPresignedDestination,
    MediaStoreDestination,
    destination_for,
)
from reelflow.storage.publishing import store_outputs
from reelflow.storage.settings import StorageSettings


@pytest.fixture
def backend() -> Iterator[FakeSpringBackend]:
    with fake_spring_backend() as running:
        yield running


def presigned_settings(backend: FakeSpringBackend) -> StorageSettings:
    return StorageSettings(
        storage_provider="backend_presigned",
        backend_base_url=backend.base_url,
        backend_api_token=backend.token,  # type: ignore[arg-type]
        backend_timeout_sec=2.0,
    )


async def store_to_backend(
    backend: FakeSpringBackend, tmp_path: Path, unique_id: str, *, token: str | None = None
) -> RenderStored:
    blobs = DirectoryBlobStore(tmp_path)
    settings = presigned_settings(backend)
    composed = render_composed(unique_id, files=described_files(f"job-{unique_id}"))
    await fill_scratch_of(blobs, settings, composed.job_id)
    connection = BackendConnection(backend.base_url, token or backend.token, timeout_sec=2.0)
    return await store_outputs(
        composed,
        blobs=blobs,
        settings=settings,
        progress=_silent_progress(composed.job_id),
        destination=BackendPresignedDestination(connection, blobs, read_timeout_sec=5.0),
    )


async def test_each_asset_is_put_where_the_backend_says_and_carries_the_backends_url(
    backend: FakeSpringBackend, tmp_path: Path, unique_id: str
) -> None:
    stored = await store_to_backend(backend, tmp_path, unique_id)

    assert {asset.kind for asset in stored.assets} == set(AssetKind)
    asked = backend.received(PRESIGNED_UPLOADS_PATH)
    assert len(asked) == len(AssetKind)
    assert all(request.headers["authorization"] == f"Bearer {backend.token}" for request in asked)
    for asset in stored.assets:
        data = SCRATCH_FILES[asset.kind][1]
        file_name, content_type = EXPECTED_NAMES[asset.kind]
        assert asset.url == f"{backend.base_url}/files/job-{unique_id}/{file_name}"
        assert backend.uploaded(asset.url) == data
        [request] = [r for r in asked if r.body["kind"] == asset.kind.value]
        assert request.body == {
            "jobId": f"job-{unique_id}",
            "videoId": f"video-{unique_id}",
            "scriptId": f"script-{unique_id}",
            "kind": asset.kind.value,
            "fileName": file_name,
            "contentType": content_type,
            "sizeBytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        # The media store keeps its copy for the studio's player and the YouTube uploader.
        assert (tmp_path / asset.bucket / asset.key).read_bytes() == data
    puts = [r for r in backend.requests if r.method == "PUT"]
    assert all(r.headers.get("x-amz-meta-sha256") for r in puts), "the headers the backend asked for are sent"
    assert all("authorization" not in r.headers for r in puts), "the Bearer token never goes to the upload URL"


async def test_a_backend_that_refuses_the_token_fails_the_step_for_good_naming_the_settings(
    backend: FakeSpringBackend, tmp_path: Path, unique_id: str
) -> None:
    with pytest.raises(StorageUploadError, match=r"answered 401.*BACKEND_API_TOKEN") as caught:
        await store_to_backend(backend, tmp_path, unique_id, token="not-the-token")
    assert caught.value.retryable is False


async def test_a_refused_upload_is_retried_with_a_fresh_url(
    backend: FakeSpringBackend, tmp_path: Path, unique_id: str
) -> None:
    backend.fail_uploads(403)
    with pytest.raises(StorageUploadError, match="refused video with 403") as caught:
        await store_to_backend(backend, tmp_path, unique_id)
    assert caught.value.retryable

    stored = await store_to_backend(backend, tmp_path, unique_id)  # the redelivery
    video = next(asset for asset in stored.assets if asset.kind == AssetKind.VIDEO)
    assert video.url is not None
    assert backend.uploaded(video.url) == SCRATCH_FILES[AssetKind.VIDEO][1]


async def test_an_upload_url_used_for_another_content_type_is_refused(backend: FakeSpringBackend) -> None:
    """The fake holds a PUT to what it signed, as S3 does; without that the happy path above would prove little."""
    async with httpx.AsyncClient(timeout=2) as http:
        answer = await http.post(
            backend.base_url + PRESIGNED_UPLOADS_PATH,
            json={"jobId": "j", "fileName": "video.mp4", "contentType": "video/mp4"},
            headers={"authorization": f"Bearer {backend.token}"},
        )
        upload_url = answer.json()["uploadUrl"]
        assert upload_url.startswith(backend.base_url + SIGNED_PUT_PREFIX)
        refused = await http.put(upload_url, content=b"x", headers={"content-type": "text/plain"})
    assert refused.status_code == 403


async def test_an_unreachable_backend_is_a_retryable_failure(tmp_path: Path, unique_id: str) -> None:
    with fake_spring_backend() as gone:
        pass  # started and stopped: its port now refuses connections
    with pytest.raises(StorageUploadError, match=r"asking the backend for an upload URL of .* failed") as caught:
        await store_to_backend(gone, tmp_path, unique_id)
    assert caught.value.retryable


def test_backend_presigned_without_a_backend_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match=r"backend_presigned needs .* BACKEND_BASE_URL"):
        StorageSettings(storage_provider="backend_presigned")


def test_the_provider_setting_picks_the_destination(backend: FakeSpringBackend, tmp_path: Path) -> None:
    blobs = DirectoryBlobStore(tmp_path)
    assert isinstance(destination_for(presigned_settings(backend), blobs), BackendPresignedDestination)
    for provider in ("s3", "local"):
        settings = StorageSettings(storage_provider=provider)
        assert isinstance(destination_for(settings, blobs), MediaStoreDestination)
