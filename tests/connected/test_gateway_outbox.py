"""The gateway's outbox on real servers: while NATS is down, requests are accepted (2xx) and reads still answer;
once NATS is back, every accepted request takes effect, and each owed event reaches the stream exactly once."""

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import TINY_LESSON, TINY_RENDER, approved_script, messages_of_job, stream_messages, wait_for_job
from tests.own_stack import OwnStack, own_stack

pytestmark = pytest.mark.connected


@pytest.fixture
def outage_stack(tmp_path: Path) -> Iterator[OwnStack]:
    """Servers and workers of this test alone: NATS goes down here, so the session's stack cannot be used."""
    with own_stack(tmp_path) as stack:
        yield stack


async def _timed_get(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.get(path)
    return response, time.monotonic() - started


async def test_requests_accepted_while_nats_is_down_take_effect_once_it_is_back(outage_stack: OwnStack) -> None:
    async with httpx.AsyncClient(base_url=outage_stack.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        to_render = await approved_script(client, "outbox-render")
        to_cancel = await approved_script(client, "outbox-cancel")

        outage_stack.stack.kill("nats")
        try:
            generated = await client.post(
                "/api/videos/outbox-generate/scripts/generate",
                json={"source_text": TINY_LESSON, "options": {"language": "en"}},
            )
            assert generated.status_code == 202, generated.text
            rendered = await client.post(
                "/api/videos/outbox-render/render-jobs", json={"script_id": to_render, **TINY_RENDER}
            )
            assert rendered.status_code == 201, rendered.text
            started = await client.post(
                "/api/videos/outbox-cancel/render-jobs", json={"script_id": to_cancel, **TINY_RENDER}
            )
            assert started.status_code == 201, started.text
            cancel_job_id = started.json()["job"]["job_id"]
            canceled = await client.post(f"/api/render-jobs/{cancel_job_id}/cancel")
            assert canceled.status_code == 202, canceled.text
            assert canceled.json()["status"] == "QUEUED", "not CANCELED until the stream says so"

            # Reads keep answering; liveness is the gateway's own; readiness names what is down.
            job, _ = await _timed_get(client, f"/api/render-jobs/{cancel_job_id}")
            assert job.status_code == 200 and job.json()["status"] == "QUEUED"
            script, _ = await _timed_get(client, f"/api/scripts/{generated.json()['script_id']}")
            assert script.status_code == 202, script.text
            health, health_sec = await _timed_get(client, "/healthz")
            assert health.status_code == 200 and health_sec < 1.0, (health.text, health_sec)
            ready, ready_sec = await _timed_get(client, "/readyz")
            assert ready.status_code == 503 and ready.json()["down"] == ["nats"], ready.text
            assert ready_sec < 2.0, ready_sec
        finally:
            outage_stack.stack.restart("nats")

        written = generated.json()["script_id"]
        deadline = time.monotonic() + 60
        while (response := await client.get(f"/api/scripts/{written}")).status_code == 202:
            assert time.monotonic() < deadline, "the script asked for during the outage was never written"
            await asyncio.sleep(0.25)
        assert response.status_code == 200, response.text

        done = await wait_for_job(client, rendered.json()["job"]["job_id"], timeout_sec=180)
        assert done["status"] == "COMPLETED", done.get("error")
        assert (await wait_for_job(client, cancel_job_id, timeout_sec=60))["status"] == "CANCELED"
        assert (await client.post(f"/api/render-jobs/{cancel_job_id}/cancel")).status_code == 409

    messages = await stream_messages(outage_stack.endpoints.nats_url)
    assert [m.subject for m in messages if m.body and m.body.get("script_id") == written][:1] == ["rf.script.requested"]
    for job_id in (rendered.json()["job"]["job_id"], cancel_job_id):
        counts = Counter(m.subject for m in messages_of_job(messages, job_id))
        assert counts["rf.render.requested"] == 1, counts
    assert Counter(m.subject for m in messages_of_job(messages, cancel_job_id))["rf.render.cancel"] == 1
