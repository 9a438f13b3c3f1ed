"""The Spring backend's compatibility routes and callbacks through the real gateway and services, against the fake
backend (``tests.fake_spring_backend``) the session's gateway is configured with by the bare names its documents use
(BACKEND_BASE_URL, BACKEND_API_TOKEN, BACKEND_INTERNAL_TOKEN, BACKEND_TIMEOUT_SEC).

The backend starts a job with its ``X-Internal-Token``; the gateway fetches the render spec with the backend's Bearer
token, snapshots it, renders it, and calls the backend back once per attempt with a ``videoUrl`` the backend can
download with its token. A spec that is invalid, a backend that fails or hangs, and the wrong credentials start
nothing. A retry renders the snapshot even after the backend's spec changed.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from tests.conftest import BACKEND_TIMEOUT_SEC, RunningServices
from tests.fake_spring_backend import FakeSpringBackend, fake_spring_backend
from tests.gateway_auth import ADMIN_HEADERS, INTERNAL_HEADERS
from tests.gateway_jobs import TINY_LESSON, stream_messages, wait_for_job

from reelflow.contracts import Asset, AssetKind, JobStatus, RenderJob, move_job
from reelflow.gateway.backend_callbacks import job_complete_body, job_complete_callback
from reelflow.gateway.ownership import VideoKind, VideoRegistry
from reelflow.gateway.webhook_dispatcher import DeliveryPolicy, WebhookDispatcher
from reelflow.gateway.webhook_schedule import AttemptOutcome
from reelflow.gateway.webhook_store import WebhookStore
from reelflow.local.servers import StackEndpoints

pytestmark = pytest.mark.connected

CALLBACK_SETTLE_SEC = 1.0


def tiny_spec(title: str = "Safe lifting", *, scenes: int = 2, size: str = "320x180") -> dict[str, Any]:
    """A lesson of a couple of short scenes, small and quick to render."""
    narrations = ["Bend your knees.", "Keep the load close.", "Ask for help.", "Take breaks.", "Stretch first."]
    return {
        "template": "lesson",
        "title": title,
        "language": "en",
        "size": size,
        "fps": 15,
        "subtitles": "sidecar",
        "script": {
            "chapters": [
                {
                    "chapter_id": "c1",
                    "title": title,
                    "scenes": [
                        {"scene_id": f"s{index + 1}", "narration": narrations[index % len(narrations)]}
                        for index in range(scenes)
                    ],
                }
            ]
        },
    }


@pytest.fixture
async def backend_client(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway as the Spring backend calls it: with its X-Internal-Token."""
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=INTERNAL_HEADERS, timeout=30) as client:
        yield client


async def test_a_started_job_renders_and_the_backend_is_called_back_once_with_a_video_it_can_download(
    backend_client: httpx.AsyncClient,
    services: RunningServices,
    spring_backend: FakeSpringBackend,
    unique_id: str,
) -> None:
    script_id, job_id = f"script-{unique_id}", f"job-{unique_id}"
    spring_backend.serve_spec(script_id, {"spec": tiny_spec(), "script_version": 7})
    complete_path = f"/video/job/{job_id}/complete"
    spring_backend.fail_callbacks(complete_path, 500)  # the first try fails: the callback is retried

    started = await backend_client.post(f"/video/job/{job_id}/start", json={"script_id": script_id})
    assert started.status_code == 201, started.text
    job = started.json()["job"]
    assert started.json()["created"] is True
    assert (job["job_id"], job["script_id"], job["script_version"]) == (job_id, script_id, 7)
    assert (job["video_id"], job["spec"]["size"], job["spec"]["title"]) == (
        f"backend-{script_id}",
        "320x180",
        "Safe lifting",
    )
    [fetch] = spring_backend.spec_fetches(script_id)
    assert fetch.headers["authorization"] == f"Bearer {spring_backend.token}"

    again = await backend_client.post(f"/video/job/{job_id}/start", json={"script_id": script_id})
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False and again.json()["job"]["job_id"] == job_id
    assert len(spring_backend.spec_fetches(script_id)) == 1, "a repeated start asks the backend nothing"

    done = await wait_for_job(backend_client, job_id)
    assert done["status"] == "COMPLETED", done
    tries = await spring_backend.wait_for(complete_path, count=2)
    await asyncio.sleep(CALLBACK_SETTLE_SEC)
    tries = spring_backend.received(complete_path)
    assert [called.answered for called in tries] == [500, 200], "retried once after the 500, then never again"
    called = tries[-1]
    assert called.headers["authorization"] == f"Bearer {spring_backend.token}"
    assert called.headers["idempotency-key"] == tries[0].headers["idempotency-key"]
    video_url = f"{services.gateway_url}/api/assets/{job_id}/video"
    assert called.body == {
        "jobId": job_id,
        "videoUrl": video_url,
        "duration": done["duration_sec"],
        "status": "COMPLETED",
    }
    assert called.body["duration"] > 0

    # The backend can read the log of what it was sent: one callback, delivered on its second attempt.
    logged = await backend_client.get("/video/callbacks", params={"job_id": job_id})
    assert logged.status_code == 200, logged.text
    [entry] = logged.json()
    assert (entry["kind"], entry["state"], entry["job_id"]) == ("backend.job.complete", "delivered", job_id)
    assert [attempt["status_code"] for attempt in entry["attempts"]] == [500, 200]
    assert entry["idempotency_key"] == called.headers["idempotency-key"]
    assert entry["url"].endswith(complete_path)
    failed_only = await backend_client.get("/video/callbacks", params={"job_id": job_id, "state": "failed"})
    assert failed_only.status_code == 200 and failed_only.json() == []

    async with httpx.AsyncClient(headers=INTERNAL_HEADERS, timeout=30) as downloader:
        video = await downloader.get(called.body["videoUrl"])
        anonymous = await downloader.get(called.body["videoUrl"], headers={"X-Internal-Token": ""})
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp" and len(video.content) > 1000
    assert anonymous.status_code == 401

    [completed] = [
        m.body
        for m in await stream_messages(services.endpoints.nats_url, "rf.render.completed")
        if m.body and m.body["job_id"] == job_id
    ]
    assert completed["script_version"] == 7
    urls = {item["kind"]: item["url"] for item in completed["assets"]}
    assert urls["video"] == video_url
    assert all(url == f"{services.gateway_url}/api/assets/{job_id}/{kind}" for kind, url in urls.items())


async def test_only_the_internal_token_opens_the_backend_routes(
    services: RunningServices, spring_backend: FakeSpringBackend, unique_id: str
) -> None:
    script_id = f"script-{unique_id}"
    spring_backend.serve_spec(script_id, tiny_spec())
    body = {"script_id": script_id}
    async with httpx.AsyncClient(base_url=services.gateway_url, timeout=30) as client:
        answers = {
            "none": await client.post(f"/video/job/job-{unique_id}/start", json=body),
            "wrong": await client.post(
                f"/video/job/job-{unique_id}/start", json=body, headers={"X-Internal-Token": "guess"}
            ),
            "api key": await client.post(f"/video/job/job-{unique_id}/start", json=body, headers=ADMIN_HEADERS),
            "retry, none": await client.post(f"/video/job/job-{unique_id}/retry"),
            "retry, api key": await client.post(f"/video/job/job-{unique_id}/retry", headers=ADMIN_HEADERS),
            "log, none": await client.get("/video/callbacks"),
            "log, api key": await client.get("/video/callbacks", headers=ADMIN_HEADERS),
        }
    statuses = {name: (answer.status_code, answer.json()["error"]["code"]) for name, answer in answers.items()}
    assert statuses == {
        "none": (401, "UNAUTHENTICATED"),
        "wrong": (401, "UNAUTHENTICATED"),
        "api key": (403, "FORBIDDEN"),
        "retry, none": (401, "UNAUTHENTICATED"),
        "retry, api key": (403, "FORBIDDEN"),
        "log, none": (401, "UNAUTHENTICATED"),
        "log, api key": (403, "FORBIDDEN"),
    }
    assert spring_backend.spec_fetches(script_id) == [], "a refused caller makes the gateway ask the backend nothing"


async def test_an_invalid_spec_is_refused_naming_the_field_and_starts_nothing(
    backend_client: httpx.AsyncClient, spring_backend: FakeSpringBackend, unique_id: str
) -> None:
    script_id, job_id = f"script-{unique_id}", f"job-{unique_id}"
    spring_backend.serve_spec(script_id, tiny_spec(size="1x1") | {"fps": 500})
    refused = await backend_client.post(f"/video/job/{job_id}/start", json={"script_id": script_id})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert sorted(problem["field"] for problem in error["details"]["problems"]) == ["spec.fps", "spec.size"]
    assert script_id in error["message"]
    assert (await backend_client.get(f"/api/render-jobs/{job_id}")).status_code == 404
    assert (await backend_client.get(f"/api/videos/backend-{script_id}/render-jobs")).json() == []
    assert (await backend_client.get(f"/api/videos/backend-{script_id}")).status_code == 404, "no video was made"


async def test_a_backend_that_fails_hangs_or_lacks_the_script_starts_nothing(
    backend_client: httpx.AsyncClient, spring_backend: FakeSpringBackend, unique_id: str
) -> None:
    failing, hanging, missing = (f"{name}-{unique_id}" for name in ("failing", "hanging", "missing"))
    spring_backend.fail_spec(failing, 500)
    spring_backend.hang_spec(hanging, BACKEND_TIMEOUT_SEC + 2)
    answers = {}
    for script_id in (failing, hanging, missing):
        answer = await backend_client.post(f"/video/job/job-{script_id}/start", json={"script_id": script_id})
        answers[script_id] = (answer.status_code, answer.json()["error"]["code"])
    assert answers == {
        failing: (502, "BACKEND_FAILED"),
        hanging: (504, "BACKEND_TIMEOUT"),
        missing: (404, "NOT_FOUND"),
    }
    for script_id in (failing, hanging, missing):
        assert (await backend_client.get(f"/api/render-jobs/job-{script_id}")).status_code == 404
        assert (await backend_client.get(f"/api/videos/backend-{script_id}/render-jobs")).json() == []
        assert (await backend_client.get(f"/api/videos/backend-{script_id}")).status_code == 404

    # Once the backend answers, the same job starts.
    spring_backend.serve_spec(failing, tiny_spec())
    started = await backend_client.post(f"/video/job/job-{failing}/start", json={"script_id": failing})
    assert started.status_code == 201, started.text
    canceled = await backend_client.post(f"/api/render-jobs/job-{failing}/cancel")
    assert canceled.status_code in (200, 202, 409), canceled.text


async def test_a_retry_renders_the_snapshot_even_after_the_backend_changed_its_spec(
    backend_client: httpx.AsyncClient, spring_backend: FakeSpringBackend, unique_id: str
) -> None:
    script_id, job_id = f"script-{unique_id}", f"job-{unique_id}"
    spring_backend.serve_spec(script_id, tiny_spec("First take", scenes=5))
    started = await backend_client.post(
        f"/video/job/{job_id}/start", json={"script_id": script_id, "video_id": f"video-{unique_id}"}
    )
    assert started.status_code == 201, started.text
    snapshot = started.json()["job"]["spec"]
    assert started.json()["job"]["video_id"] == f"video-{unique_id}"
    assert (await backend_client.post(f"/video/job/{job_id}/retry")).status_code == 409, "active: not retried"

    canceled = await backend_client.post(f"/api/render-jobs/{job_id}/cancel")
    assert canceled.status_code in (200, 202), canceled.text
    assert (await wait_for_job(backend_client, job_id))["status"] == "CANCELED"
    complete_path = f"/video/job/{job_id}/complete"
    [first] = await spring_backend.wait_for(complete_path)
    assert first.body == {"jobId": job_id, "videoUrl": None, "duration": None, "status": "CANCELED"}

    spring_backend.serve_spec(script_id, tiny_spec("Second take", size="640x360"))
    retried = await backend_client.post(f"/video/job/{job_id}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["attempt"] == 2 and retried.json()["spec"] == snapshot
    assert len(spring_backend.spec_fetches(script_id)) == 1, "a retry never asks the backend for the spec again"

    done = await wait_for_job(backend_client, job_id, attempt=2)
    assert done["status"] == "COMPLETED", done
    assert done["spec"]["title"] == "First take" and done["spec"]["size"] == "320x180"
    calls = await spring_backend.wait_for(complete_path, count=2)
    await asyncio.sleep(CALLBACK_SETTLE_SEC)
    calls = spring_backend.received(complete_path)
    assert [call.body["status"] for call in calls] == ["CANCELED", "COMPLETED"], "one callback per attempt"
    assert calls[1].body["videoUrl"].endswith(f"/api/assets/{job_id}/video")

    completed = await backend_client.post(f"/video/job/{job_id}/retry")
    assert (completed.status_code, completed.json()["error"]["code"]) == (409, "CONFLICT")
    unknown = await backend_client.post(f"/video/job/no-such-job-{unique_id}/retry")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "NOT_FOUND")


async def test_a_script_asked_for_with_a_material_id_is_sent_to_the_backend_once_written(
    services: RunningServices, spring_backend: FakeSpringBackend, unique_id: str
) -> None:
    path = "/video/script/complete"
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as admin:
        material_id = f"material-{unique_id}"
        asked = await admin.post(
            f"/api/videos/material-{unique_id}/scripts/generate",
            json={"source_text": TINY_LESSON, "options": {"language": "en"}, "material_id": material_id},
        )
        plain = await admin.post(
            f"/api/videos/plain-{unique_id}/scripts/generate",
            json={"source_text": TINY_LESSON, "options": {"language": "en"}},
        )
        assert asked.status_code == 202 and plain.status_code == 202, (asked.text, plain.text)
        script_id, plain_id = asked.json()["script_id"], plain.json()["script_id"]

        deadline = asyncio.get_running_loop().time() + 60
        while not [r for r in spring_backend.received(path) if r.body["script_id"] == script_id]:
            assert asyncio.get_running_loop().time() < deadline, "no script callback within 60 s"
            await asyncio.sleep(0.1)
        written = await admin.get(f"/api/scripts/{plain_id}")
        while written.status_code == 202:
            await asyncio.sleep(0.1)
            written = await admin.get(f"/api/scripts/{plain_id}")
        await asyncio.sleep(CALLBACK_SETTLE_SEC)
        script = (await admin.get(f"/api/scripts/{script_id}")).json()

    calls = [r for r in spring_backend.received(path) if r.body["script_id"] in (script_id, plain_id)]
    assert len(calls) == 1, "only the script with a material_id is sent, and once"
    [called] = calls
    assert called.headers["authorization"] == f"Bearer {spring_backend.token}"
    assert called.body == {
        "material_id": material_id,
        "script_id": script_id,
        "script": script["script"],
        "version": 1,
    }
    assert called.body["script"]["chapters"][0]["scenes"]


async def test_a_backend_callback_is_queued_once_and_outlives_a_sender_that_died_holding_it(
    stack: StackEndpoints, unique_id: str
) -> None:
    """The durable part on its own, on the real MongoDB-wire server with an injected clock: the callback is queued
    once however often the ledger records the end; a replica that claimed it and died leaves it to the next one
    (a restarted gateway) once its lease ends; a 503 is retried on the schedule; the backend's address on loopback
    is not refused as a webhook target would be, and it gets the Bearer token, never a webhook signature."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    database = f"backend-callbacks-{unique_id}"
    store, registry = WebhookStore(mongo, database), VideoRegistry(mongo, database)
    await store.ensure_indexes()
    await registry.claim("video-1", "default", VideoKind.LESSON, "Lifting")
    at = datetime.now(UTC)
    video = Asset(
        kind=AssetKind.VIDEO,
        bucket="media",
        key="videos/v/s/j/video.mp4",
        size_bytes=9,
        content_type="video/mp4",
        sha256="a" * 64,
    )
    queued = RenderJob.model_validate(
        {
            "job_id": "job-1",
            "video_id": "video-1",
            "spec": None,
            "assets": [video],
            "duration_sec": 4.5,
            "created_at": at,
            "updated_at": at,
        }
    )
    job = move_job(move_job(queued, JobStatus.PROCESSING, at=at), JobStatus.COMPLETED, at=at)
    now = [1_000_000.0]
    try:
        with fake_spring_backend() as backend:
            path = "/video/job/job-1/complete"
            backend.fail_callbacks(path, 503)
            policy = DeliveryPolicy(
                retry_delays_sec=(0, 5, 60), lease_sec=60, backend_api_token=backend.token, backend_timeout_sec=2
            )
            async with httpx.AsyncClient(trust_env=False) as http:
                first = WebhookDispatcher(store, registry, http, policy, clock=lambda: now[0])
                callback = job_complete_callback(
                    job, backend_base_url=backend.base_url, gateway_base_url="https://rf.example.com"
                )
                assert await first.enqueue_backend(callback, video_id="video-1") is True
                assert await first.enqueue_backend(callback, video_id="video-1") is False, "queued once"
                [due] = await store.due(now[0], 10)
                assert await store.claim(due, until=now[0] + 60, holder="a replica that died") is not None

                restarted = WebhookDispatcher(store, registry, http, policy, clock=lambda: now[0])
                assert (await restarted.deliver_due()).attempted == 0, "still leased to the dead replica"
                now[0] += 60
                assert (await restarted.deliver_due()).outcomes == [AttemptOutcome.RETRY]
                now[0] += 4.9
                assert (await restarted.deliver_due()).attempted == 0
                now[0] += 0.1
                assert (await restarted.deliver_due()).outcomes == [AttemptOutcome.DELIVERED]
                now[0] += 3600
                assert (await restarted.deliver_due()).attempted == 0, "delivered: never sent again"
            sent = backend.received(path)
        assert [request.answered for request in sent] == [503, 200]
        assert all(request.headers["authorization"] == f"Bearer {backend.token}" for request in sent)
        assert all("webhook-signature" not in request.headers for request in sent)
        assert len({request.headers["idempotency-key"] for request in sent}) == 1
        expected = job_complete_body(job, gateway_base_url="https://rf.example.com")
        assert sent[-1].body == expected == json.loads(callback.body)
        assert expected["videoUrl"] == "https://rf.example.com/api/assets/job-1/video" and expected["duration"] == 4.5
    finally:
        await mongo.close()
