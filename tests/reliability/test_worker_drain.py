"""SIGTERM to a worker in the middle of a step: it stops taking messages, hands the message back when its grace runs
out, kills its FFmpeg children and exits 0; the job then completes on the restarted worker."""

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import approved_script, wait_for_job
from tests.own_stack import OwnStack, ffmpeg_under, own_stack
from tests.process_tree import alive

pytestmark = [pytest.mark.connected, pytest.mark.reliability]

GRACE_SEC = 2.0
LESSON = (Path(__file__).parents[2] / "services/script/src/reelflow/script/samples/lesson_en.md").read_text()


@pytest.fixture
def drain_stack(tmp_path: Path) -> Iterator[OwnStack]:
    """A stack of its own: this test stops a worker, which the shared session services must never see."""
    with own_stack(tmp_path, env={"REELFLOW_SHUTDOWN_GRACE_SEC": str(GRACE_SEC)}) as stack:
        yield stack


@pytest.fixture
async def gateway(drain_stack: OwnStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=drain_stack.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


async def test_sigterm_mid_compose_hands_the_job_back_and_exits_zero(
    drain_stack: OwnStack, gateway: httpx.AsyncClient
) -> None:
    video_id = "drain-video"
    script_id = await approved_script(gateway, video_id, LESSON)
    # Animated: its parts take far longer than the grace, so the SIGTERM always lands mid-step. A basic lesson's
    # held pictures encode in a second or two, and the step could finish inside the grace instead.
    created = await gateway.post(
        f"/api/videos/{video_id}/render-jobs",
        json={"script_id": script_id, "size": "1280x720", "visual_style": "animated"},
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["job"]["job_id"]

    compose = drain_stack.workers._process("compose")
    assert compose.pid is not None
    deadline = time.monotonic() + 120
    while not (encoding := ffmpeg_under(compose.pid)):
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

    drain_stack.workers.restart("compose")
    done = await wait_for_job(gateway, job_id, timeout_sec=240)
    assert done["status"] == "COMPLETED", done.get("error")
    assert done["attempt"] == 1, "the handed-back message finished the same attempt"
