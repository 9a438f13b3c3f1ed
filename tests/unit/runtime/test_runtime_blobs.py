"""The directory blob store: the S3 twin that handler tests and single-machine installs run on."""

import hashlib
import time
from datetime import timedelta
from pathlib import Path

import pytest

from reelflow.runtime.blobs import (
    STREAM_CHUNK_BYTES,
    BlobStream,
    DirectoryBlobStore,
    sha256_of_file,
    work_prefix,
)
from reelflow.runtime.failures import StorageUploadError
from reelflow.runtime.s3_blobs import S3BlobStore, blob_store_for
from reelflow.runtime.settings import ServiceSettings

WORK = "reelflow-work"
MEDIA = "reelflow-media"


@pytest.fixture
def store(tmp_path: Path) -> DirectoryBlobStore:
    return DirectoryBlobStore(tmp_path / "blobs")


async def test_bytes_round_trip(store: DirectoryBlobStore) -> None:
    await store.put_bytes(WORK, "jobs/j1/1/audio/s1.wav", b"RIFF....WAVE", "audio/wav")
    assert await store.get_bytes(WORK, "jobs/j1/1/audio/s1.wav") == b"RIFF....WAVE"
    info = await store.stat(WORK, "jobs/j1/1/audio/s1.wav")
    assert info is not None
    assert info.size_bytes == 12


async def test_files_round_trip_and_copy_between_buckets(store: DirectoryBlobStore, tmp_path: Path) -> None:
    source = tmp_path / "video.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypmp42" * 100)
    await store.put_file(WORK, "jobs/j1/1/video.mp4", source, "video/mp4")
    await store.copy(WORK, "jobs/j1/1/video.mp4", MEDIA, "videos/v1/s1/j1/video.mp4")
    downloaded = tmp_path / "out" / "deep" / "video.mp4"
    await store.get_file(MEDIA, "videos/v1/s1/j1/video.mp4", downloaded)
    assert downloaded.read_bytes() == source.read_bytes()
    assert sha256_of_file(downloaded) == hashlib.sha256(source.read_bytes()).hexdigest()


async def test_stat_of_a_missing_key_is_none(store: DirectoryBlobStore) -> None:
    await store.ensure_buckets(WORK, MEDIA)
    assert await store.stat(WORK, "jobs/nothing/1/video.mp4") is None
    assert await store.stat(WORK, "jobs") is None  # a folder is not an object


async def test_reading_a_missing_key_fails(store: DirectoryBlobStore) -> None:
    await store.ensure_buckets(WORK)
    with pytest.raises(FileNotFoundError):
        await store.get_bytes(WORK, "jobs/nothing/1/video.mp4")


async def test_delete_prefix_removes_only_that_attempt(store: DirectoryBlobStore) -> None:
    for key in ("jobs/j1/1/a.wav", "jobs/j1/1/slides/s1.png", "jobs/j1/10/a.wav", "jobs/j1/2/a.wav", "jobs/j2/1/a.wav"):
        await store.put_bytes(WORK, key, b"x", "application/octet-stream")
    await store.put_bytes(MEDIA, "jobs/j1/1/a.wav", b"x", "application/octet-stream")

    assert await store.delete_prefix(WORK, work_prefix("j1", 1)) == 2

    assert await store.stat(WORK, "jobs/j1/1/a.wav") is None
    assert await store.stat(WORK, "jobs/j1/1/slides/s1.png") is None
    for kept in ("jobs/j1/10/a.wav", "jobs/j1/2/a.wav", "jobs/j2/1/a.wav"):
        assert await store.stat(WORK, kept) is not None
    assert await store.stat(MEDIA, "jobs/j1/1/a.wav") is not None
    assert await store.delete_prefix(WORK, work_prefix("j1", 1)) == 0


async def test_delete_prefix_of_a_missing_bucket_deletes_nothing(store: DirectoryBlobStore) -> None:
    assert await store.delete_prefix("no-such-bucket", "jobs/") == 0


@pytest.mark.parametrize("key", ["../../outside.txt", "../../../etc/passwd", "jobs/../../../outside.txt"])
async def test_a_key_escaping_the_root_is_refused(store: DirectoryBlobStore, tmp_path: Path, key: str) -> None:
    with pytest.raises(StorageUploadError) as caught:
        await store.put_bytes(WORK, key, b"x", "text/plain")
    assert caught.value.retryable is False
    assert not (tmp_path / "outside.txt").exists()
    with pytest.raises(StorageUploadError):
        await store.get_bytes(WORK, key)


async def test_a_key_escaping_its_bucket_is_refused(store: DirectoryBlobStore) -> None:
    """A scratch key from a message must not reach into the media bucket (on S3 ``..`` is just a name)."""
    with pytest.raises(StorageUploadError):
        await store.put_bytes(WORK, "../reelflow-media/videos/v1/s1/j1/video.mp4", b"x", "video/mp4")
    assert await store.stat(MEDIA, "videos/v1/s1/j1/video.mp4") is None


def test_work_prefix_is_per_attempt() -> None:
    assert work_prefix("job-1", 2) == "jobs/job-1/2/"


async def test_presigned_url_points_at_the_object(store: DirectoryBlobStore) -> None:
    await store.put_bytes(MEDIA, "videos/v1/s1/j1/thumb.jpg", b"\xff\xd8", "image/jpeg")
    url = store.presigned_get_url(MEDIA, "videos/v1/s1/j1/thumb.jpg", timedelta(hours=1))
    assert url.startswith("file://")
    assert url.endswith("/reelflow-media/videos/v1/s1/j1/thumb.jpg")


async def test_an_unreachable_s3_fails_without_naming_its_endpoint() -> None:
    """The failure reaches job errors and API answers: it says what failed, not where the store lives."""
    settings = ServiceSettings(s3_endpoint="http://127.0.0.1:9", s3_timeout_sec=2)
    with pytest.raises(StorageUploadError) as caught:
        await S3BlobStore(settings).stat("reelflow-media", "videos/x.mp4")
    assert "stat of reelflow-media/videos/x.mp4 failed" in caught.value.message
    assert "127.0.0.1" not in caught.value.message and ":9" not in caught.value.message


async def test_a_ranged_read_streams_exactly_that_part_of_the_file(store: DirectoryBlobStore) -> None:
    content = bytes(range(256)) * 4096  # 1 MiB: four chunks
    await store.put_bytes(MEDIA, "videos/v/video.mp4", content, "video/mp4")
    stream = await store.open_range(MEDIA, "videos/v/video.mp4", start=1000, length=600_000, read_timeout_sec=5)
    assert stream is not None
    chunks = [chunk async for chunk in stream.chunks()]
    await stream.close()
    assert b"".join(chunks) == content[1000:601_000]
    assert max(len(chunk) for chunk in chunks) <= STREAM_CHUNK_BYTES, "never the whole file in memory"
    assert await store.open_range(MEDIA, "videos/v/none.mp4", start=0, length=1, read_timeout_sec=5) is None


async def test_a_stalled_or_short_read_fails_instead_of_hanging() -> None:
    def stall() -> bytes:
        time.sleep(0.5)
        return b"late"

    stalled = BlobStream(10, read_chunk=stall, close=lambda: None, what="read of m/k", read_timeout_sec=0.05)
    with pytest.raises(StorageUploadError, match="stalled"):
        _ = [chunk async for chunk in stalled.chunks()]
    short = BlobStream(
        10, read_chunk=iter([b"12345", b""]).__next__, close=lambda: None, what="read", read_timeout_sec=1
    )
    with pytest.raises(StorageUploadError, match="5 bytes early"):
        _ = [chunk async for chunk in short.chunks()]


async def test_each_object_keeps_its_content_type_through_a_copy(store: DirectoryBlobStore, tmp_path: Path) -> None:
    """The gateway serves a local install's assets with the type stat reports, as it does S3's."""
    local = tmp_path / "clip.bin"
    local.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    await store.put_file(WORK, "jobs/j1/1/out/video", local, "video/mp4")
    await store.copy(WORK, "jobs/j1/1/out/video", MEDIA, "videos/v1/s1/j1/video")
    for bucket, key in ((WORK, "jobs/j1/1/out/video"), (MEDIA, "videos/v1/s1/j1/video")):
        info = await store.stat(bucket, key)
        assert info is not None
        assert (info.size_bytes, info.content_type) == (12, "video/mp4")


async def test_an_object_written_by_another_program_gets_the_type_its_name_says(
    store: DirectoryBlobStore, tmp_path: Path
) -> None:
    placed = tmp_path / "blobs" / MEDIA / "videos" / "v1" / "thumb.jpg"
    placed.parent.mkdir(parents=True)
    placed.write_bytes(b"\xff\xd8")
    info = await store.stat(MEDIA, "videos/v1/thumb.jpg")
    assert info is not None
    assert info.content_type == "image/jpeg"


async def test_writes_land_whole_and_leave_nothing_a_listing_shows(store: DirectoryBlobStore) -> None:
    await store.put_bytes(WORK, "jobs/j1/1/a.json", b"{}", "application/json")
    await store.put_bytes(WORK, "jobs/j1/1/a.json", b'{"again": 1}', "application/json")
    assert [listing.key for listing in await store.list_keys(WORK, "")] == ["jobs/j1/1/a.json"]
    assert await store.get_bytes(WORK, "jobs/j1/1/a.json") == b'{"again": 1}'
    assert list((store_root(store) / ".incoming").iterdir()) == []
    assert await store.delete_prefix(WORK, "jobs/") == 1
    assert not (store_root(store) / ".content-types" / WORK / "jobs" / "j1" / "1" / "a.json").exists()


async def test_a_bucket_named_like_the_stores_own_folders_is_refused(store: DirectoryBlobStore) -> None:
    with pytest.raises(StorageUploadError):
        await store.put_bytes(".content-types", "x", b"x", "text/plain")


def store_root(store: DirectoryBlobStore) -> Path:
    return store._root


@pytest.mark.parametrize(("provider", "kind"), [("local", DirectoryBlobStore), ("s3", S3BlobStore)])
def test_the_storage_provider_setting_picks_the_media_store(tmp_path: Path, provider: str, kind: type) -> None:
    settings = ServiceSettings(storage_provider=provider, storage_local_dir=tmp_path)  # type: ignore[arg-type]
    assert isinstance(blob_store_for(settings), kind)


def test_backend_presigned_keeps_its_media_in_s3() -> None:
    assert isinstance(blob_store_for(ServiceSettings(storage_provider="backend_presigned")), S3BlobStore)
