"""The library against the real stack: lists with filters, search and pages; a finished video's review and
timecoded comments; deleting a video with everything it made; and none of it visible from another workspace."""

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import approved_script, start_lesson_job, wait_for_job
from tests.gateway_members import member_client

pytestmark = pytest.mark.connected


@pytest.fixture
async def admin(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


async def test_videos_are_listed_with_filters_search_and_pages(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    member = await member_client(admin, services, unique_id)
    try:
        for name in ("alpha", "beta"):
            await approved_script(member, f"{name}-{unique_id}")
        page = (await member.get("/api/videos", params={"limit": 1})).json()
        assert len(page["items"]) == 1 and page["next_cursor"]
        second = (await member.get("/api/videos", params={"limit": 1, "cursor": page["next_cursor"]})).json()
        assert second["next_cursor"] is None
        listed = [item["video_id"] for item in page["items"] + second["items"]]
        assert sorted(listed) == [f"alpha-{unique_id}", f"beta-{unique_id}"]
        first = page["items"][0]
        assert (first["state"], first["review"], first["kind"]) == ("SCRIPT", "PENDING", "lesson")
        assert first["title"] == "Safe lifting" and first["latest_script_id"]

        found = (await member.get("/api/videos", params={"q": "ALPHA"})).json()["items"]
        assert [item["video_id"] for item in found] == [f"alpha-{unique_id}"]
        assert (await member.get("/api/videos", params={"q": "lifting"})).json()["items"]
        assert (await member.get("/api/videos", params={"q": "no such words"})).json()["items"] == []
        assert len((await member.get("/api/videos", params={"state": "SCRIPT"})).json()["items"]) == 2
        assert (await member.get("/api/videos", params={"state": "COMPLETED"})).json()["items"] == []
        scripts = (await member.get("/api/scripts", params={"status": "APPROVED"})).json()["items"]
        assert {script["video_id"] for script in scripts} == set(listed)

        bad = await member.get("/api/videos", params={"cursor": "garbage!"})
        assert bad.status_code == 422 and bad.json()["error"]["details"]["problems"][0]["field"] == "cursor"
        admins = [item["video_id"] for item in (await admin.get("/api/videos", params={"limit": 100})).json()["items"]]
        assert not set(listed) & set(admins)
    finally:
        await member.aclose()


async def test_a_finished_video_is_reviewed_commented_and_deleted_with_its_assets(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    video_id = f"reviewed-{unique_id}"
    job_id = await start_lesson_job(admin, video_id)
    early = await admin.post(f"/api/videos/{video_id}/review", json={"decision": "APPROVED"})
    assert early.status_code in (200, 409)  # 409 unless the tiny job already finished
    job = await wait_for_job(admin, job_id)
    assert job["status"] == "COMPLETED", job

    summary = (await admin.get(f"/api/videos/{video_id}")).json()
    assert (summary["state"], summary["latest_job_id"]) == ("COMPLETED", job_id)
    assert summary["duration_sec"] == pytest.approx(job["duration_sec"])
    thumbnail = await admin.get(summary["thumbnail_url"], follow_redirects=True)
    assert thumbnail.status_code == 200 and thumbnail.content[:3] == b"\xff\xd8\xff"
    completed = (await admin.get("/api/render-jobs", params={"status": "COMPLETED", "limit": 100})).json()
    assert job_id in [item["job_id"] for item in completed["items"]]

    no_reason = await admin.post(f"/api/videos/{video_id}/review", json={"decision": "REJECTED"})
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    rejected = await admin.post(
        f"/api/videos/{video_id}/review", json={"decision": "REJECTED", "reason": "the second slide is wrong"}
    )
    assert (rejected.json()["review"], rejected.json()["review_reason"]) == ("REJECTED", "the second slide is wrong")
    assert (await admin.get("/api/videos", params={"review": "REJECTED", "q": video_id})).json()["items"]
    approved = await admin.post(f"/api/videos/{video_id}/review", json={"decision": "APPROVED"})
    assert approved.json()["review"] == "APPROVED" and approved.json()["state"] == "COMPLETED"

    later = await admin.post(f"/api/videos/{video_id}/comments", json={"at_sec": 2.5, "text": "louder here"})
    sooner = await admin.post(f"/api/videos/{video_id}/comments", json={"at_sec": 0.5, "text": "title typo"})
    assert later.status_code == sooner.status_code == 201, later.text
    assert later.json()["author"].startswith("key ") and later.json()["resolved"] is False
    past_end = await admin.post(f"/api/videos/{video_id}/comments", json={"at_sec": 3600, "text": "?"})
    assert past_end.status_code == 422 and past_end.json()["error"]["details"]["problems"][0]["field"] == "at_sec"
    resolved = await admin.patch(
        f"/api/videos/{video_id}/comments/{sooner.json()['comment_id']}", json={"resolved": True}
    )
    assert resolved.json()["resolved"] is True
    comments = (await admin.get(f"/api/videos/{video_id}/comments")).json()
    assert [(comment["at_sec"], comment["resolved"]) for comment in comments] == [(0.5, True), (2.5, False)]

    member = await member_client(admin, services, unique_id)
    try:
        for answer in (
            await member.get(f"/api/videos/{video_id}"),
            await member.get(f"/api/videos/{video_id}/comments"),
            await member.post(f"/api/videos/{video_id}/comments", json={"at_sec": 1, "text": "mine?"}),
            await member.post(f"/api/videos/{video_id}/review", json={"decision": "APPROVED"}),
            await member.delete(f"/api/videos/{video_id}"),
            await member.get(f"/api/assets/{job_id}/video"),
        ):
            assert answer.status_code == 404, answer.text
    finally:
        await member.aclose()

    assert (await admin.delete(f"/api/videos/{video_id}")).status_code == 204
    for gone in (
        await admin.get(f"/api/videos/{video_id}"),
        await admin.get(f"/api/render-jobs/{job_id}"),
        await admin.get(f"/api/assets/{job_id}/video"),
        await admin.get(f"/api/scripts/{job['script_id']}"),
    ):
        assert gone.status_code == 404, gone.text
    assert (await admin.get("/api/videos", params={"q": video_id})).json()["items"] == []


async def test_a_refused_request_leaves_no_video_in_the_library(admin: httpx.AsyncClient, unique_id: str) -> None:
    video_id = f"refused-{unique_id}"
    refused = await admin.post(f"/api/videos/{video_id}/scripts/generate", json={"source_text": ""})
    assert refused.status_code == 422, refused.text
    assert (await admin.get(f"/api/videos/{video_id}")).status_code == 404
    assert (await admin.get("/api/videos", params={"q": video_id})).json()["items"] == []
