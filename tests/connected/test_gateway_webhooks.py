"""Webhooks through the real gateway and services: a workspace's subscription and a job's callback_url both get the
tiny lesson's job.completed, signed (checked with the standardwebhooks library by a receiver in this process); a
failing receiver is retried and the delivery logs show each attempt; a 410 disables a subscription; another
workspace cannot see or touch it. The session gateway retries within a second (``tests.gateway_auth``)."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS, WEBHOOK_SECRET
from tests.gateway_jobs import TINY_RENDER, approved_script, wait_for_job
from tests.gateway_members import member_client
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.connected


@pytest.fixture
async def admin(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


async def subscribe(admin: httpx.AsyncClient, url: str, *event_types: str) -> dict[str, Any]:
    created = await admin.post("/api/webhooks", json={"url": url, "event_types": list(event_types)})
    assert created.status_code == 201, created.text
    subscription: dict[str, Any] = created.json()
    assert subscription["secret"].startswith("whsec_") and subscription["enabled"] is True
    return subscription


async def test_a_subscription_and_a_callback_get_the_signed_job_completed_with_retries_in_the_log(
    admin: httpx.AsyncClient, receiver: Receiver, unique_id: str
) -> None:
    flaky = await subscribe(admin, receiver.url("/flaky"), "job.completed", "script.completed")
    receiver.route("/flaky", secret=flaky["secret"], answers=(500, 500))
    callback_url = receiver.route("/callback", secret=WEBHOOK_SECRET)
    try:
        video_id = f"hooked-{unique_id}"
        script_id = await approved_script(admin, video_id)
        created = await admin.post(
            f"/api/videos/{video_id}/render-jobs",
            json={"script_id": script_id, "callback_url": callback_url, **TINY_RENDER},
        )
        assert created.status_code == 201, created.text
        job_id = created.json()["job"]["job_id"]
        assert created.json()["job"]["spec"]["callback_url"] == callback_url
        job = await wait_for_job(admin, job_id)
        assert job["status"] == "COMPLETED", job

        [called] = await receiver.wait_for("/callback", "job.completed", job_id=job_id)
        assert called.verified, called.problem
        data = called.body["data"]
        assert (data["video_id"], data["status"]) == (video_id, "COMPLETED")
        assert data["duration_sec"] == pytest.approx(job["duration_sec"])
        assert f"/api/assets/{job_id}/video" in [asset["download_path"] for asset in data["assets"]]
        video = await admin.get(f"/api/assets/{job_id}/video")
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"

        script_hooks = await receiver.wait_for("/flaky", "script.completed", script_id=script_id)
        assert script_hooks[-1].body["data"]["video_id"] == video_id and script_hooks[-1].body["data"]["version"] == 1
        sent = await receiver.wait_for("/flaky", "job.completed", job_id=job_id)
        assert all(r.verified for r in [*sent, *script_hooks]), [r.problem for r in sent]
        assert sent[-1].answered == 200 and sent[-1].body == called.body
        assert sent[-1].headers["webhook-id"] == called.headers["webhook-id"]

        log = (await admin.get(f"/api/webhooks/{flaky['subscription_id']}/deliveries")).json()
        by_type = {delivery["event_type"]: delivery for delivery in log if delivery["job_id"] in (None, job_id)}
        delivered = by_type["job.completed"]
        assert delivered["state"] == "delivered" and delivered["next_attempt_at"] is None
        statuses = [attempt["status_code"] for attempt in delivered["attempts"]]
        # The receiver's first two answers went to whichever of the two events came first.
        script_statuses = [attempt["status_code"] for attempt in by_type["script.completed"]["attempts"]]
        assert sorted(script_statuses + statuses) == [200, 200, 500, 500], log
        assert [attempt["number"] for attempt in delivered["attempts"]] == list(range(1, len(statuses) + 1))
        assert all(attempt["duration_ms"] >= 0 for attempt in delivered["attempts"])

        [logged] = (await admin.get(f"/api/render-jobs/{job_id}/callbacks")).json()
        assert (logged["event_type"], logged["state"], logged["url"]) == ("job.completed", "delivered", callback_url)
        assert [attempt["status_code"] for attempt in logged["attempts"]] == [200]
    finally:
        await admin.delete(f"/api/webhooks/{flaky['subscription_id']}")


async def test_410_disables_a_subscription_and_other_workspaces_cannot_touch_it(
    admin: httpx.AsyncClient, services: RunningServices, receiver: Receiver, unique_id: str
) -> None:
    gone = await subscribe(admin, receiver.route("/gone", answers=(410,)), "script.completed")
    subscription_id = gone["subscription_id"]
    try:
        listed = (await admin.get("/api/webhooks")).json()
        assert subscription_id in [item["subscription_id"] for item in listed]
        assert all("secret" not in item for item in listed)

        script_id = await approved_script(admin, f"gone-{unique_id}")
        await receiver.wait_for("/gone", "script.completed", script_id=script_id)
        for _ in range(50):
            read = (await admin.get(f"/api/webhooks/{subscription_id}")).json()
            if not read["enabled"]:
                break
            await asyncio.sleep(0.1)
        assert (read["enabled"], read["disabled_reason"]) == (False, "the endpoint answered 410 Gone"), read
        [logged] = (await admin.get(f"/api/webhooks/{subscription_id}/deliveries")).json()
        assert logged["state"] == "failed" and [a["status_code"] for a in logged["attempts"]] == [410]

        enabled = await admin.patch(f"/api/webhooks/{subscription_id}", json={"enabled": True})
        assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)

        member = await member_client(admin, services, unique_id)
        try:
            assert subscription_id not in [
                item["subscription_id"] for item in (await member.get("/api/webhooks")).json()
            ]
            for answer in (
                await member.get(f"/api/webhooks/{subscription_id}"),
                await member.get(f"/api/webhooks/{subscription_id}/deliveries"),
                await member.patch(f"/api/webhooks/{subscription_id}", json={"enabled": False}),
                await member.delete(f"/api/webhooks/{subscription_id}"),
            ):
                assert answer.status_code == 404, answer.text
            assert (await admin.get(f"/api/webhooks/{subscription_id}")).json()["enabled"] is True
        finally:
            await member.aclose()

        refused = await admin.post("/api/webhooks", json={"url": "ftp://example.com/x", "event_types": ["job.failed"]})
        assert refused.status_code == 422 and refused.json()["error"]["details"]["problems"][0]["field"] == "url"
    finally:
        deleted = await admin.delete(f"/api/webhooks/{subscription_id}")
        assert deleted.status_code == 204
    assert (await admin.get(f"/api/webhooks/{subscription_id}")).status_code == 404
