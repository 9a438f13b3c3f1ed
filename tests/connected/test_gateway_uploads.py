"""Uploads and ranking jobs through the real gateway: stored once by content, refused with reasons, job routes."""

import hashlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio import Minio
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import wait_for_job

pytestmark = pytest.mark.connected

MEDIA_BUCKET = "reelflow-media"


def make_clip(path: Path, *, seconds: float, tag: str) -> Path:
    """A tiny clip with sound; ``tag`` goes into its metadata so each test's file (and key) is its own."""
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-nostdin", "-y"),
            *("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine", "-t", f"{seconds}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"),
            *("-metadata", f"comment={tag}", str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path


@pytest.fixture
async def gateway(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


async def upload(client: httpx.AsyncClient, filename: str, data: bytes) -> httpx.Response:
    return await client.post("/api/uploads", files={"file": (filename, data, "video/mp4")})


async def test_an_upload_is_stored_once_and_garbage_is_refused_naming_the_file(
    gateway: httpx.AsyncClient, services: RunningServices, tmp_path: Path, unique_id: str
) -> None:
    data = make_clip(tmp_path / "clip.mp4", seconds=1.5, tag=unique_id).read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()

    first = await upload(gateway, "My Clip.MP4", data)
    assert first.status_code == 201, first.text
    body: dict[str, Any] = first.json()
    assert body["created"] is True
    assert body["media_key"] == f"uploads/{sha256}.mp4"
    assert (body["sha256"], body["size_bytes"], body["kind"]) == (sha256, len(data), "video")
    assert (body["width"], body["height"], body["fps"], body["has_audio"]) == (320, 240, 25.0, True)
    assert abs(body["duration_sec"] - 1.5) < 0.1

    again = await upload(gateway, "copy.mp4", data)
    assert again.status_code == 200, again.text
    assert again.json() == body | {"created": False}

    s3 = Minio(
        services.endpoints.s3_address,
        access_key=services.endpoints.s3_access_key,
        secret_key=services.endpoints.s3_secret_key,
        secure=False,
    )
    stored = s3.get_object(MEDIA_BUCKET, body["media_key"])
    try:
        assert stored.read() == data
        assert stored.headers["Content-Type"] == "video/mp4"
    finally:
        stored.close()
        stored.release_conn()

    garbage = await upload(gateway, f"broken-{unique_id}.mp4", b"definitely not a video " * 100)
    assert garbage.status_code == 422, garbage.text
    error = garbage.json()["error"]
    assert error["code"] == "MEDIA_INVALID"
    assert error["message"].startswith(f"'broken-{unique_id}.mp4' cannot be used as a clip, music, picture or font")
    assert error["details"]["filename"] == f"broken-{unique_id}.mp4"
    garbage_key = f"uploads/{hashlib.sha256(b'definitely not a video ' * 100).hexdigest()}.mp4"
    assert not any(o.object_name == garbage_key for o in s3.list_objects(MEDIA_BUCKET, prefix="uploads/"))

    not_a_form = await gateway.post("/api/uploads", content=data, headers={"Content-Type": "video/mp4"})
    assert not_a_form.status_code == 415, not_a_form.text
    assert "multipart/form-data in the field 'file'" in not_a_form.json()["error"]["message"]


async def test_a_ranking_job_names_every_missing_clip_then_runs_through_the_job_routes(
    gateway: httpx.AsyncClient, tmp_path: Path, unique_id: str
) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=2.0, tag=unique_id)
    uploaded = await upload(gateway, "clip.mp4", clip.read_bytes())
    assert uploaded.status_code == 201, uploaded.text
    media_key = uploaded.json()["media_key"]
    video_id = f"ranking-{unique_id}"
    missing = [f"uploads/{'0' * 63}{n}.mp4" for n in (2, 3)]
    request = {
        "video_id": video_id,
        "title": "Top 3",
        "clips": [
            {"media_key": media_key, "rank": 1, "label": "the best"},
            {"media_key": missing[0], "rank": 2, "label": "runner-up"},
            {"media_key": missing[1], "rank": 3},
        ],
    }

    refused = await gateway.post("/api/ranking-jobs", json=request)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert f"clip #2 'runner-up' ({missing[0]})" in error["message"]
    assert f"clip #3 ({missing[1]})" in error["message"]
    assert "POST /api/uploads" in error["message"]
    assert [(p["field"], p["rank"]) for p in error["details"]["problems"]] == [
        ("clips.1.media_key", 2),
        ("clips.2.media_key", 3),
    ]
    assert (await gateway.get(f"/api/videos/{video_id}/render-jobs")).json() == [], "no job was started"

    duplicate_ranks = request | {"clips": [request["clips"][0], {"media_key": media_key, "rank": 1}]}
    invalid = await gateway.post("/api/ranking-jobs", json=duplicate_ranks)
    assert invalid.status_code == 422, invalid.text
    assert "every rank must be unique" in invalid.json()["error"]["message"]

    one_clip = request | {"clips": [request["clips"][0]], "size": "540x960", "fps": 15}
    created = await gateway.post("/api/ranking-jobs", json=one_clip)
    assert created.status_code == 201, created.text
    job = created.json()["job"]
    job_id = job["job_id"]
    assert created.json()["created"] is True
    assert (job["video_id"], job["script_id"], job["script_version"], job["attempt"]) == (video_id, None, None, 1)
    assert job["spec"]["template"] == "ranking" and job["spec"]["size"] == "540x960"
    assert job["spec"]["clips"] == [
        {
            "media_key": media_key,
            "rank": 1,
            "label": "the best",
            "start": None,
            "end": None,
            "keep_audio": True,
            "framing": "auto",  # the default: shown whole when a crop would cut most of it
        }
    ]

    # While it is active, the same video gets the same job back (the claim lessons use).
    active = await gateway.post("/api/ranking-jobs", json=one_clip)
    assert active.status_code == 200, active.text
    assert active.json()["created"] is False and active.json()["job"]["job_id"] == job_id

    read = await gateway.get(f"/api/render-jobs/{job_id}")
    assert read.status_code == 200 and read.json()["spec"]["template"] == "ranking"
    assert [j["job_id"] for j in (await gateway.get(f"/api/videos/{video_id}/render-jobs")).json()] == [job_id]

    # Cancel and retry are the render-job routes; the job may already have finished (a one-clip short is quick).
    canceled = await gateway.post(f"/api/render-jobs/{job_id}/cancel")
    assert canceled.status_code in (200, 202, 409), canceled.text
    status = (await wait_for_job(gateway, job_id, timeout_sec=60))["status"]
    if canceled.status_code in (200, 202):
        assert status == "CANCELED"
    if canceled.status_code == 200:
        assert canceled.json()["status"] == "CANCELED"
    if status == "COMPLETED":
        assert (await gateway.post(f"/api/render-jobs/{job_id}/retry")).status_code == 409
        return
    retried = await gateway.post(f"/api/render-jobs/{job_id}/retry")
    assert retried.status_code == 200, retried.text
    # The answer is the job as the ledger holds it by then: the new attempt, queued or (the engine being quick)
    # already taken up, never the old attempt's terminal state.
    assert retried.json()["attempt"] == 2
    assert retried.json()["status"] in ("QUEUED", "PROCESSING"), retried.text
    assert retried.json()["spec"] == job["spec"], "a retry renders the same frozen spec"
    final = await gateway.post(f"/api/render-jobs/{job_id}/cancel")
    assert final.status_code in (200, 202, 409), final.text
