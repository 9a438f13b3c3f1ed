"""Supervision as `reelflow up` runs it, mid-step: a worker killed with SIGKILL while it encodes takes its FFmpeg
children along, comes back by itself (logged: which service, how it exited, the next delay), answers /readyz again
and finishes the job it was holding; a deliberate restart is not taken for a crash.

Slow (a minute or two on a loaded 2-core machine): the stack is real, the job is the 3-minute English sample lesson
(so FFmpeg runs long enough to be caught), and the handed-back message waits out its ack_wait.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import approved_script, wait_for_job
from tests.own_stack import QUICK_RESTARTS, OwnStack, ffmpeg_under, own_stack
from tests.process_tree import alive

pytestmark = [pytest.mark.connected, pytest.mark.reliability]

LESSON = (Path(__file__).parents[2] / "services/script/src/reelflow/script/samples/lesson_en.md").read_text()


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnStack]:
    """Servers and supervised workers of its own: these tests kill and restart workers."""
    with own_stack(tmp_path_factory.mktemp("supervised"), restarts=QUICK_RESTARTS, ready_timeout_sec=240) as stack:
        yield stack


@pytest.fixture
async def gateway(supervised: OwnStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=supervised.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


async def until_ready(url: str, timeout_sec: float) -> None:
    deadline = time.monotonic() + timeout_sec
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(url)).status_code == httpx.codes.OK:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{url} did not answer 200 within {timeout_sec:g}s"
            await asyncio.sleep(0.1)


@pytest.mark.timeout(600)
async def test_a_worker_killed_mid_encode_takes_its_ffmpeg_along_comes_back_and_finishes_the_job(
    supervised: OwnStack, gateway: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    workers = supervised.workers
    script_id = await approved_script(gateway, "supervised-video", LESSON)
    created = await gateway.post(
        "/api/videos/supervised-video/render-jobs", json={"script_id": script_id, "size": "1280x720"}
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["job"]["job_id"]
    compose = workers.pid("compose")
    assert compose is not None
    deadline = time.monotonic() + 240
    while not (encoders := ffmpeg_under(compose)):
        assert time.monotonic() < deadline, "compose never started FFmpeg"
        await asyncio.sleep(0.05)

    caplog.set_level(logging.INFO, logger="reelflow.local")
    workers.kill("compose")

    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in encoders):
        assert time.monotonic() < deadline, "FFmpeg outlived its SIGKILLed worker"
        await asyncio.sleep(0.05)
    deadline = time.monotonic() + 60
    while (restarted := workers.pid("compose")) == compose or not workers.is_running("compose"):
        assert time.monotonic() < deadline, "compose was not restarted"
        await asyncio.sleep(0.1)
    await until_ready(f"{workers.health_url('compose')}/readyz", timeout_sec=120)
    assert "service compose was killed by SIGKILL; restarting it in 0.5 s" in caplog.text
    assert f"service compose restarted (pid {restarted})" in caplog.text

    done = await wait_for_job(gateway, job_id, timeout_sec=300)
    assert done["status"] == "COMPLETED", done.get("error")
    assert done["attempt"] == 1, "the handed-back step finished the same attempt"


async def test_a_deliberate_restart_is_not_taken_for_a_crash(supervised: OwnStack) -> None:
    workers = supervised.workers
    supervisor = workers.supervise()  # the one already running
    restarts_before = dict(supervisor.restarts)
    tts = workers.pid("tts")

    await asyncio.to_thread(workers.restart, "tts")
    await until_ready(f"{workers.health_url('tts')}/readyz", timeout_sec=120)
    await asyncio.sleep(1)  # several supervision rounds

    restarted = workers.pid("tts")
    assert restarted != tts
    assert supervisor.restarts == restarts_before
    assert tts is not None and not alive(tts), "the old tts is gone, not running beside the new one"
