"""SIGTERM to a worker in the middle of a step: it stops taking messages, hands the message back when its grace runs
out, kills its FFmpeg children and exits 0; the job then completes on the restarted worker."""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.gateway_jobs import approved_script, wait_for_job
from tests.process_tree import alive, descendants

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.servers import EmbeddedStack, StackEndpoints
from reelflow.local.workers import WorkerGroup

pytestmark = [pytest.mark.connected, pytest.mark.reliability]

GRACE_SEC = 2.0
LESSON = (Path(__file__).parents[2] / "services/script/src/reelflow/script/samples/lesson_en.md").read_text()


@dataclass(frozen=True)
class OwnStack:
    endpoints: StackEndpoints
    workers: WorkerGroup
    gateway_url: str


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[OwnStack]:
    """A stack of its own: this test stops a worker, which the shared session services must never see."""
    stack = EmbeddedStack(tmp_path / "stack")
    endpoints = stack.start()
    gateway_port = free_port()
    env = endpoints.service_env() | {
        "REELFLOW_GATEWAY_PORT": str(gateway_port),
        "REELFLOW_SHUTDOWN_GRACE_SEC": str(GRACE_SEC),
    }
    workers = WorkerGroup(env, tmp_path / "logs")
    workers.start()
    try:
        gateway_url = f"http://{LOOPBACK}:{gateway_port}"
        workers.wait_ready(endpoints.nats_url, gateway_url, timeout_sec=120)
        yield OwnStack(endpoints, workers, gateway_url)
    finally:
        workers.stop()
        stack.stop()


@pytest.fixture
async def gateway(own_stack: OwnStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=own_stack.gateway_url, timeout=30) as client:
        yield client


def ffmpeg_children_of(pid: int) -> set[int]:
    """FFmpeg processes below ``pid`` only: other tests' or benchmarks' FFmpeg on the machine are not ours."""
    found = set()
    for child in descendants(pid):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == "ffmpeg":
                found.add(child)
        except OSError:
            continue
    return found


async def test_sigterm_mid_compose_hands_the_job_back_and_exits_zero(
    own_stack: OwnStack, gateway: httpx.AsyncClient
) -> None:
    video_id = "drain-video"
    script_id = await approved_script(gateway, video_id, LESSON)
    created = await gateway.post(
        f"/api/videos/{video_id}/render-jobs", json={"script_id": script_id, "size": "1280x720"}
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["job"]["job_id"]

    compose = own_stack.workers._process("compose")
    assert compose.pid is not None
    deadline = time.monotonic() + 120
    while not (encoding := ffmpeg_children_of(compose.pid)):
        assert time.monotonic() < deadline, "compose never started FFmpeg"
        await asyncio.sleep(0.1)
    started = time.monotonic()
    os.kill(compose.pid, 15)
    while compose.is_running():
        assert time.monotonic() - started < GRACE_SEC + 15, "compose did not stop within its grace"
        await asyncio.sleep(0.1)
    assert compose.returncode == 0, compose.describe_exit()
    await asyncio.sleep(0.5)
    assert not [pid for pid in encoding if alive(pid)], "FFmpeg children outlived the worker"

    job = (await gateway.get(f"/api/render-jobs/{job_id}")).json()
    assert job["status"] == "PROCESSING", job

    own_stack.workers.restart("compose")
    done = await wait_for_job(gateway, job_id, timeout_sec=240)
    assert done["status"] == "COMPLETED", done.get("error")
    assert done["attempt"] == 1, "the handed-back message finished the same attempt"
