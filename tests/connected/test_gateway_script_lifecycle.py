"""A script's life through the real gateway: written as a DRAFT, edited into versions, approved, then rendered."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import wait_for_job

from reelflow.gateway.event_projector import auto_render_job_id

pytestmark = pytest.mark.connected

LESSON = """# Strong passwords

Use a long passphrase for every account.

## Password managers

A password manager remembers every passphrase for you.
"""
SMALL_RENDER = {"size": "640x360", "fps": 15}
POLLS = 300
POLL_SEC = 0.1


@pytest.fixture
async def gateway(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


async def _written_script(client: httpx.AsyncClient, video_id: str, **request: Any) -> httpx.Response:
    """Ask for a script from LESSON and wait until the gateway answers with it."""
    accepted = await client.post(
        f"/api/videos/{video_id}/scripts/generate",
        json={"source_text": LESSON, "options": {"language": "en", "max_chapters": 2}, **request},
    )
    assert accepted.status_code == 202, accepted.text
    script_id = accepted.json()["script_id"]
    for _ in range(POLLS):
        response = await client.get(f"/api/scripts/{script_id}")
        if response.status_code != 202:
            return response
        await asyncio.sleep(POLL_SEC)
    raise AssertionError(f"script {script_id} was not written after {POLLS} polls")


async def _cancel(client: httpx.AsyncClient, job_id: str) -> None:
    """Stop the render so it does not hold the shared CPU; a job that already finished answers 409."""
    response = await client.post(f"/api/render-jobs/{job_id}/cancel")
    assert response.status_code in (200, 202, 409), response.text
    if response.status_code == 202:  # asked; the job is CANCELED once the cancel is on the stream
        await wait_for_job(client, job_id, timeout_sec=30)


def _narrations(script_body: dict[str, Any]) -> list[str]:
    return [scene["narration"] for chapter in script_body["chapters"] for scene in chapter["scenes"]]


def _with_first_narration(script_body: dict[str, Any], narration: str) -> dict[str, Any]:
    chapters = [
        dict(chapter, scenes=[dict(scene) for scene in chapter["scenes"]]) for chapter in script_body["chapters"]
    ]
    chapters[0]["scenes"][0]["narration"] = narration
    return {"chapters": chapters}


async def test_an_edited_script_renders_only_once_approved_and_keeps_its_versions(
    gateway: httpx.AsyncClient, unique_id: str
) -> None:
    video_id = f"lifecycle-{unique_id}"
    written = await _written_script(gateway, video_id)
    assert written.status_code == 200, written.text
    v1 = written.json()
    script_id = v1["script_id"]
    assert (v1["version"], v1["status"]) == (1, "DRAFT")
    assert written.headers["etag"] == '"1"'
    render_request = {"script_id": script_id, **SMALL_RENDER}

    # A DRAFT does not render, and the refusal names the call that fixes it.
    refused = await gateway.post(f"/api/videos/{video_id}/render-jobs", json=render_request)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "CONFLICT"
    assert f"approve it with POST /api/scripts/{script_id}/approve" in refused.json()["error"]["message"]

    # An invalid edit names each field that is wrong.
    invalid = {"chapters": [{"chapter_id": "c1", "title": "T", "scenes": [{"scene_id": "s1", "narration": ""}]}]}
    rejected = await gateway.put(f"/api/scripts/{script_id}", json={"script": invalid, "colour": "red", "version": 1})
    assert rejected.status_code == 422, rejected.text
    assert rejected.json()["error"]["code"] == "VALIDATION_FAILED"
    fields = {problem["field"] for problem in rejected.json()["error"]["details"]["problems"]}
    assert fields == {"script.chapters.0.scenes.0.narration", "colour"}

    edited_narration = f"Edited narration {unique_id}: never reuse a passphrase."
    edit = {"script": _with_first_narration(v1["script"], edited_narration), "version": 1}
    edited = await gateway.put(f"/api/scripts/{script_id}", json=edit)
    assert edited.status_code == 200, edited.text
    v2 = edited.json()
    assert (v2["version"], v2["status"], v2["title"]) == (2, "DRAFT", v1["title"])
    assert _narrations(v2["script"])[0] == edited_narration
    assert edited.headers["etag"] == '"2"'

    old = await gateway.get(f"/api/scripts/{script_id}/versions/1")
    assert old.status_code == 200, old.text
    assert (old.json()["version"], old.json()["status"]) == (1, "ARCHIVED")
    assert old.json()["script"] == v1["script"]
    assert (await gateway.get(f"/api/scripts/{script_id}/versions/3")).status_code == 404

    # Someone still holding version 1 is told version 2 is current, by body or by If-Match.
    stale_edit = {"script": _with_first_narration(v1["script"], "A stale edit."), "version": 1}
    stale = await gateway.put(f"/api/scripts/{script_id}", json=stale_edit)
    assert stale.status_code == 409, stale.text
    assert stale.json()["error"]["code"] == "CONFLICT"
    assert stale.json()["error"]["details"]["current_version"] == 2
    assert "version 2" in stale.json()["error"]["message"]
    stale_edit.pop("version")
    stale_by_header = await gateway.put(f"/api/scripts/{script_id}", json=stale_edit, headers={"If-Match": '"1"'})
    assert stale_by_header.status_code == 409, stale_by_header.text
    assert (await gateway.get(f"/api/scripts/{script_id}")).json()["version"] == 2

    history = (await gateway.get(f"/api/scripts/{script_id}/versions")).json()
    assert [(entry["version"], entry["status"]) for entry in history["versions"]] == [(2, "DRAFT"), (1, "ARCHIVED")]
    listed = (await gateway.get(f"/api/videos/{video_id}/scripts")).json()
    assert [(entry["script_id"], entry["latest_version"]) for entry in listed] == [(script_id, 2)]
    assert [entry["version"] for entry in listed[0]["versions"]] == [2, 1]

    old_approval = await gateway.post(f"/api/scripts/{script_id}/approve", json={"version": 1})
    assert old_approval.status_code == 409, old_approval.text
    assert "only the latest version can be approved" in old_approval.json()["error"]["message"]
    approval = await gateway.post(f"/api/scripts/{script_id}/approve", headers={"If-Match": '"2"'})
    assert approval.status_code == 200, approval.text
    assert (approval.json()["version"], approval.json()["status"]) == (2, "APPROVED")

    created = await gateway.post(f"/api/videos/{video_id}/render-jobs", json=render_request)
    assert created.status_code == 201, created.text
    job = created.json()["job"]
    try:
        assert job["script_id"] == script_id and job["script_version"] == 2
        assert _narrations(job["spec"]["script"])[0] == edited_narration

        # Editing after the job started makes version 3 but leaves the job's frozen spec alone.
        later = {"script": _with_first_narration(v2["script"], "A later edit."), "version": 2}
        v3 = await gateway.put(f"/api/scripts/{script_id}", json=later)
        assert (v3.status_code, v3.json()["version"], v3.json()["status"]) == (200, 3, "DRAFT")
        frozen = (await gateway.get(f"/api/render-jobs/{job['job_id']}")).json()
        assert frozen["script_version"] == 2
        assert _narrations(frozen["spec"]["script"])[0] == edited_narration
    finally:
        await _cancel(gateway, job["job_id"])
    # Canceling (or finishing) rewrote the job document; the gateway's own field survived the rewrite.
    ended = (await gateway.get(f"/api/render-jobs/{job['job_id']}")).json()
    assert ended["status"] in ("CANCELED", "COMPLETED")
    assert ended["script_version"] == 2


async def test_auto_render_approves_the_written_script_and_starts_its_job(
    gateway: httpx.AsyncClient, unique_id: str
) -> None:
    video_id = f"auto-{unique_id}"
    written = await _written_script(gateway, video_id, auto_render=True, render_defaults=SMALL_RENDER)
    assert written.status_code == 200, written.text
    script = written.json()
    assert (script["version"], script["status"]) == (1, "APPROVED")

    # The ledger saves the script before it starts the job, so the job may appear a moment later.
    jobs: list[dict[str, Any]] = []
    for _ in range(POLLS):
        jobs = (await gateway.get(f"/api/videos/{video_id}/render-jobs")).json()
        if jobs:
            break
        await asyncio.sleep(POLL_SEC)
    assert len(jobs) == 1, jobs
    job = jobs[0]
    try:
        assert job["job_id"] == auto_render_job_id(script["script_id"])
        assert (job["script_id"], job["script_version"]) == (script["script_id"], 1)
        assert job["spec"]["size"] == "640x360" and job["spec"]["script"] == script["script"]
    finally:
        await _cancel(gateway, job["job_id"])


async def test_a_lesson_with_music_that_was_never_uploaded_is_refused_naming_the_key(
    gateway: httpx.AsyncClient, unique_id: str
) -> None:
    video_id = f"music-{unique_id}"
    script_id = (await _written_script(gateway, video_id)).json()["script_id"]
    assert (await gateway.post(f"/api/scripts/{script_id}/approve")).status_code == 200
    missing = f"uploads/{'f' * 64}.mp3"
    refused = await gateway.post(
        f"/api/videos/{video_id}/render-jobs",
        json={"script_id": script_id, "music": {"media_key": missing}, **SMALL_RENDER},
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert f"music ({missing})" in error["message"] and "POST /api/uploads" in error["message"]
    assert error["details"]["problems"][0]["field"] == "music.media_key"
    assert (await gateway.get(f"/api/videos/{video_id}/render-jobs")).json() == []
