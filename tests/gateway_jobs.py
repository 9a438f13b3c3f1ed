"""Driving jobs the way a client does (REST), and reading back what the bus carried for them (the REELFLOW stream)."""

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from reelflow.contracts import STREAM_NAME

TINY_LESSON = """# Safe lifting

Bend your knees and keep the load close to your body.

Ask for help when a box is too heavy to carry alone.
"""
TINY_RENDER = {"size": "320x180", "fps": 15}
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELED"})


async def approved_script(client: httpx.AsyncClient, video_id: str, lesson: str = TINY_LESSON) -> str:
    """Ask for a script, wait until it is written, approve it; returns its id."""
    response = await client.post(
        f"/api/videos/{video_id}/scripts/generate", json={"source_text": lesson, "options": {"language": "en"}}
    )
    assert response.status_code == 202, response.text
    script_id: str = response.json()["script_id"]
    deadline = time.monotonic() + 60
    while (response := await client.get(f"/api/scripts/{script_id}")).status_code == 202:
        assert time.monotonic() < deadline, f"script {script_id} was not written within 60 s"
        await asyncio.sleep(0.1)
    assert response.status_code == 200, response.text
    approved = await client.post(f"/api/scripts/{script_id}/approve")
    assert approved.status_code == 200, approved.text
    return script_id


async def start_lesson_job(client: httpx.AsyncClient, video_id: str, lesson: str = TINY_LESSON) -> str:
    """A tiny approved lesson's render job, started; returns the job id."""
    script_id = await approved_script(client, video_id, lesson)
    created = await client.post(f"/api/videos/{video_id}/render-jobs", json={"script_id": script_id, **TINY_RENDER})
    assert created.status_code == 201, created.text
    job_id: str = created.json()["job"]["job_id"]
    return job_id


async def wait_for_job(
    client: httpx.AsyncClient,
    job_id: str,
    *,
    until: frozenset[str] = TERMINAL,
    attempt: int | None = None,
    timeout_sec: float = 120,
) -> dict[str, Any]:
    """Poll the job until its status is in ``until`` (for ``attempt``, when given); fail the test at the deadline."""
    deadline = time.monotonic() + timeout_sec
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await client.get(f"/api/render-jobs/{job_id}")
        if response.status_code == 200:
            job = response.json()
            if job["status"] in until and (attempt is None or job["attempt"] == attempt):
                return job
        await asyncio.sleep(0.25)
    raise AssertionError(f"job {job_id} did not reach {sorted(until)} within {timeout_sec:g}s; last seen: {job}")


@dataclass(frozen=True)
class BusMessage:
    subject: str
    msg_id: str
    body: dict[str, Any] | None


async def stream_messages(nats_url: str, subject: str = "rf.>") -> list[BusMessage]:
    """Every message the REELFLOW stream holds on ``subject``, oldest first."""
    connection = await nats.connect(nats_url, connect_timeout=5)
    messages: list[BusMessage] = []
    try:
        js = connection.jetstream(timeout=10)
        sub = await js.pull_subscribe(
            subject, stream=STREAM_NAME, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_wait=30)
        )
        # What this subject holds, not the whole stream: asking for more than there is only waits for a timeout.
        remaining = (await sub.consumer_info()).num_pending or 0
        while remaining > 0:
            try:
                batch = await sub.fetch(min(256, remaining), timeout=5)
            except TimeoutError:  # nats raises both its own TimeoutError and asyncio's
                break
            for message in batch:
                remaining -= 1
                try:
                    body = json.loads(message.data)
                except ValueError:
                    body = None
                headers = message.headers or {}
                messages.append(BusMessage(message.subject, headers.get("Nats-Msg-Id", ""), body))
        await sub.unsubscribe()
    finally:
        await connection.close()
    return messages


def messages_of_job(messages: list[BusMessage], job_id: str) -> list[BusMessage]:
    return [m for m in messages if (m.body and m.body.get("job_id") == job_id) or m.msg_id.startswith(f"{job_id}:")]
