"""A lesson rendered through all six services with each storage provider other than the default ``s3`` (which
every other end-to-end test uses): ``local`` keeps all media in a directory, and ``backend_presigned`` also PUTs
the finished assets where a (fake) Spring backend's presigned URLs say.

Each runs a stack of its own, because the provider is a setting of every service; that costs the start of the
servers and six workers (about 15 s) per provider.
"""

import asyncio
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from reelflow.contracts import AssetKind
from reelflow.runtime.blobs import INCOMING_FOLDER
from reelflow.runtime.failures import StorageUploadError
from reelflow.runtime.s3_blobs import S3BlobStore
from reelflow.runtime.settings import ServiceSettings
from tests.connected.test_backend_compat import tiny_spec
from tests.fake_spring_backend import FakeSpringBackend, fake_spring_backend
from tests.gateway_auth import ADMIN_HEADERS, INTERNAL_HEADERS
from tests.gateway_jobs import start_lesson_job, wait_for_job
from tests.own_stack import OwnStack, own_stack
from tests.process_tree import descendants, stop_whatever_is_left

pytestmark = [pytest.mark.connected, pytest.mark.e2e]

MEDIA_BUCKET = "reelflow-media"
JOB_TIMEOUT_SEC = 180
RENDER_TIMEOUT_SEC = 240


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[tuple[OwnStack, Path]]:
    media_dir = tmp_path / "media"
    env = {"REELFLOW_STORAGE_PROVIDER": "local", "REELFLOW_STORAGE_LOCAL_DIR": str(media_dir)}
    with own_stack(tmp_path, env=env) as stack:
        yield stack, media_dir


async def test_a_local_install_keeps_every_file_in_its_directory_and_serves_it_from_there(
    local_stack: tuple[OwnStack, Path],
) -> None:
    stack, media_dir = local_stack
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        job_id = await start_lesson_job(client, "local-video")
        job = await wait_for_job(client, job_id, timeout_sec=JOB_TIMEOUT_SEC)
        assert job["status"] == "COMPLETED", job
        [video] = [asset for asset in job["assets"] if asset["kind"] == AssetKind.VIDEO.value]
        on_disk = media_dir / MEDIA_BUCKET / video["key"]
        data = on_disk.read_bytes()
        assert hashlib.sha256(data).hexdigest() == video["sha256"]
        assert data[4:8] == b"ftyp"

        ranged = await client.get(f"/api/assets/{job_id}/video", headers={"range": "bytes=0-99"})
        assert ranged.status_code == 206, ranged.text
        assert ranged.headers["content-type"] == "video/mp4"
        assert ranged.content == data[:100]

        # Readiness names the dependency that is there: the directory, not an S3 server.
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"nats", "mongo", "media-directory"}, ready.text

    # Nothing went to the stack's S3 server: no service even made the media bucket there.
    endpoints = stack.endpoints
    s3 = S3BlobStore(
        ServiceSettings(
            s3_endpoint=endpoints.s3_endpoint,
            s3_access_key=endpoints.s3_access_key,
            s3_secret_key=SecretStr(endpoints.s3_secret_key),
        )
    )
    with pytest.raises(StorageUploadError, match="NoSuchBucket"):
        await s3.list_keys(MEDIA_BUCKET, "")
    # The job's scratch goes (the cleanup follows rf.render.completed), and no write was left half done.
    scratch = media_dir / "reelflow-work" / "jobs" / job_id
    deadline = time.monotonic() + 20
    while list(scratch.rglob("*.*")):
        assert time.monotonic() < deadline, f"the scratch of {job_id} was not cleaned within 20 s"
        await asyncio.sleep(0.2)
    assert list((media_dir / INCOMING_FOLDER).iterdir()) == []


@pytest.fixture
def presigned_stack(tmp_path: Path) -> Iterator[tuple[OwnStack, FakeSpringBackend]]:
    with fake_spring_backend() as backend:
        env = {
            "REELFLOW_STORAGE_PROVIDER": "backend_presigned",
            "BACKEND_BASE_URL": backend.base_url,
            "BACKEND_API_TOKEN": backend.token,
        }
        with own_stack(tmp_path, env=env) as stack:
            yield stack, backend


async def test_the_backend_gets_each_finished_asset_and_its_url_is_the_video_url(
    presigned_stack: tuple[OwnStack, FakeSpringBackend],
) -> None:
    stack, backend = presigned_stack
    script_id, job_id = "presigned-script", "presigned-job"
    backend.serve_spec(script_id, tiny_spec())
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=INTERNAL_HEADERS, timeout=30) as as_backend:
        started = await as_backend.post(f"/video/job/{job_id}/start", json={"script_id": script_id})
        assert started.status_code in (200, 201, 202), started.text
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        job = await wait_for_job(client, job_id, timeout_sec=JOB_TIMEOUT_SEC)
        assert job["status"] == "COMPLETED", job
        by_kind = {asset["kind"]: asset for asset in job["assets"]}
        video = by_kind[AssetKind.VIDEO.value]
        assert video["url"].startswith(f"{backend.base_url}/files/{job_id}/")
        uploaded = backend.uploaded(video["url"])
        assert uploaded is not None
        assert hashlib.sha256(uploaded).hexdigest() == video["sha256"]
        # The gateway still serves the media store's copy to the studio's player.
        served = await client.get(f"/api/assets/{job_id}/video", headers={"range": "bytes=0-99"})
        assert served.status_code == 206 and served.content == uploaded[:100]
    [callback] = await backend.wait_for(f"/video/job/{job_id}/complete")
    assert callback.body["videoUrl"] == video["url"]
    assert callback.body["status"] == "COMPLETED"


def test_reelflow_render_on_a_directory_starts_no_s3_server(tmp_path: Path) -> None:
    """`reelflow render --embedded` with REELFLOW_STORAGE_PROVIDER=local: the MP4 is made with no S3 server at all
    (the stack starts NATS and MongoDB only), its media under the stack's own data folder."""
    lesson = tmp_path / "lesson.md"
    lesson.write_text("# Passwords\n\nA long passphrase is easier to remember than a short password.\n")
    output = tmp_path / "out.mp4"
    env = os.environ | {"REELFLOW_STORAGE_PROVIDER": "local", "TMPDIR": str(tmp_path)}
    env.pop("REELFLOW_STORAGE_LOCAL_DIR", None)
    command = [sys.executable, "-m", "reelflow.cli.main", "render", str(lesson), "-o", str(output), "--embedded"]
    seen: set[str] = set()
    with (tmp_path / "render.log").open("wb") as log:
        render = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + RENDER_TIMEOUT_SEC
        while render.poll() is None:
            assert time.monotonic() < deadline, "reelflow render did not finish"
            seen.update(command_line(pid) for pid in descendants(render.pid))
            time.sleep(0.2)
    finally:
        stop_whatever_is_left(render)
    log_text = (tmp_path / "render.log").read_text(errors="replace")
    assert render.returncode == 0, log_text[-3000:]
    assert output.read_bytes()[4:8] == b"ftyp"
    assert any("nats-server" in line for line in seen), "the process tree was watched"
    assert not [line for line in seen if "nanio" in line], "an S3 server was started"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
