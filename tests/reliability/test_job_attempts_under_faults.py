"""Jobs move only forward: cancel → retry → done, cancels that never 5xx, duplicates and poison on the real bus."""

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import nats
import pytest
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import TINY_LESSON, messages_of_job, start_lesson_job, stream_messages, wait_for_job

from reelflow.contracts import LessonSpec, RenderRequested, ScriptOptions
from reelflow.script.outline import write_outline

pytestmark = [pytest.mark.connected, pytest.mark.reliability]

CANCEL_ROUNDS = 50


@pytest.fixture
async def gateway(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


async def test_a_canceled_job_can_be_retried_to_completion(gateway: httpx.AsyncClient, unique_id: str) -> None:
    job_id = await start_lesson_job(gateway, f"video-{unique_id}")
    await wait_for_job(gateway, job_id, until=frozenset({"PROCESSING"}), timeout_sec=60)

    canceled = await gateway.post(f"/api/render-jobs/{job_id}/cancel")
    assert canceled.status_code in (200, 202), canceled.text
    assert (await wait_for_job(gateway, job_id))["status"] == "CANCELED"

    retried = await gateway.post(f"/api/render-jobs/{job_id}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["attempt"] == 2
    done = await wait_for_job(gateway, job_id, attempt=2, timeout_sec=180)
    assert done["status"] == "COMPLETED", done.get("error")


async def test_fifty_cancels_never_answer_a_server_error(
    services: RunningServices, gateway: httpx.AsyncClient, unique_id: str
) -> None:
    """Each round cancels the running attempt and retries it; the last attempt is left to finish."""
    job_id = await start_lesson_job(gateway, f"video-{unique_id}")
    statuses: Counter[int] = Counter()
    for round_number in range(1, CANCEL_ROUNDS + 1):
        responses = await asyncio.gather(
            gateway.post(f"/api/render-jobs/{job_id}/cancel"), gateway.post(f"/api/render-jobs/{job_id}/cancel")
        )
        statuses.update(response.status_code for response in responses)
        assert all(response.status_code < 500 for response in responses), [r.text for r in responses]
        await wait_for_job(gateway, job_id, attempt=round_number, timeout_sec=30)
        retried = await gateway.post(f"/api/render-jobs/{job_id}/retry")
        assert retried.status_code == 200, retried.text
    done = await wait_for_job(gateway, job_id, attempt=CANCEL_ROUNDS + 1, timeout_sec=180)
    assert done["status"] == "COMPLETED", done.get("error")
    assert statuses[500] == 0 and sum(statuses.values()) == 2 * CANCEL_ROUNDS, statuses

    ours = messages_of_job(await stream_messages(services.endpoints.nats_url), job_id)
    terminal = Counter((m.subject, m.msg_id.split(":")[1]) for m in ours if m.subject in TERMINAL_SUBJECTS)
    assert all(count == 1 for count in terminal.values()), terminal
    assert sum(1 for subject, _ in terminal if subject == "rf.render.completed") == 1


TERMINAL_SUBJECTS = ("rf.render.completed", "rf.render.failed", "rf.render.cancel")


def _backend_request(unique_id: str) -> RenderRequested:
    script = write_outline(TINY_LESSON, ScriptOptions(language="en", max_chapters=1))
    return RenderRequested(
        job_id=f"backend-{unique_id}",
        video_id=f"backend-video-{unique_id}",
        attempt=1,
        spec=LessonSpec(language="en", script=script, size="320x180", fps=15),
    )


async def _publish_raw(nats_url: str, subject: str, body: bytes, msg_id: str) -> bool:
    """Publish to JetStream as the backend would; returns whether the stream called it a duplicate."""
    connection = await nats.connect(nats_url)
    try:
        ack = await connection.jetstream().publish(
            subject, body, headers={"Nats-Msg-Id": msg_id, "ce-subject": msg_id.split(":")[0]}
        )
        return bool(ack.duplicate)
    finally:
        await connection.close()


async def test_duplicates_inside_and_after_the_dedup_window_never_rerun_a_finished_job(
    services: RunningServices, gateway: httpx.AsyncClient, unique_id: str
) -> None:
    request = _backend_request(unique_id)
    body = request.model_dump_json().encode()
    nats_url = services.endpoints.nats_url
    assert not await _publish_raw(nats_url, request.subject, body, request.idempotency_key())
    assert await _publish_raw(nats_url, request.subject, body, request.idempotency_key()), "inside the window"
    done = await wait_for_job(gateway, request.job_id, timeout_sec=180)
    assert done["status"] == "COMPLETED", done.get("error")

    # After the 2-minute window JetStream stores a repeat like a new message; a fresh Nats-Msg-Id is the same.
    assert not await _publish_raw(nats_url, request.subject, body, f"{request.job_id}:1:{uuid.uuid4().hex}")
    await asyncio.sleep(5)  # time for every service to see it and drop it

    ours = messages_of_job(await stream_messages(nats_url), request.job_id)
    counts = Counter(m.subject for m in ours)
    assert counts["rf.render.requested"] == 2
    for subject in ("rf.render.narrated", "rf.render.composed", "rf.render.stored", "rf.render.completed"):
        assert counts[subject] == 1, counts
    assert counts["rf.render.failed"] == 0, counts
    assert (await gateway.get(f"/api/render-jobs/{request.job_id}")).json()["status"] == "COMPLETED"


@pytest.mark.parametrize("poison", ["malformed", "invalid"])
async def test_a_poison_request_is_dead_lettered_once_and_its_job_failed(
    services: RunningServices, gateway: httpx.AsyncClient, unique_id: str, poison: str
) -> None:
    job_id = f"poison-{poison}-{unique_id}"
    if poison == "malformed":
        body = b'{"job_id": "' + job_id.encode() + b'", "spec": {'
    else:
        invalid = {"job_id": job_id, "video_id": f"v-{unique_id}", "attempt": 1, "spec": {"template": "x"}}
        body = json.dumps(invalid).encode()
    nats_url = services.endpoints.nats_url
    await _publish_raw(nats_url, "rf.render.requested", body, f"{job_id}:1:reelflow.render.requested.v1")

    failed = await wait_for_job(gateway, job_id, timeout_sec=30)
    assert failed["status"] == "FAILED"
    assert failed["error"]["code"] == "INVALID_SCRIPT"
    await asyncio.sleep(3)  # a retry, if there were one, would come back within the first backoff (2 s)
    letters = [m for m in await stream_messages(nats_url, "rf.dlq.>") if m.body and m.body.get("job_id") == job_id]
    assert len(letters) == 1, letters
    assert letters[0].subject == "rf.dlq.tts"
    assert letters[0].body is not None and letters[0].body["delivered"] == 1
