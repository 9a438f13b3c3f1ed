"""Twenty jobs through every fault an operator meets: workers killed mid-step, a NATS restart, and a NATS outage
longer than any client's reconnect budget. No worker is restarted by hand; every job completes exactly once.

Slow on purpose (about five minutes): NATS is held down for 155 s, longer than the 150 s the issue asks for, because
the failure this guards against (nats-py giving up after its default budget of about two minutes) only shows up
after that long.
"""

import asyncio
import itertools
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from minio import Minio
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import messages_of_job, start_lesson_job, stream_messages, wait_for_job
from tests.own_stack import QUICK_RESTARTS, OwnStack, own_stack

from reelflow.local.servers import s3_client

pytestmark = [pytest.mark.connected, pytest.mark.reliability]

JOB_COUNT = 20
OUTAGE_SEC = 155.0
ASSETS_PER_JOB = 5  # video, srt, vtt, thumbnail, chapters


@pytest.fixture
def chaos_stack(tmp_path: Path) -> Iterator[OwnStack]:
    """Its own servers and supervised workers, as `reelflow up` runs them; NATS is killed here, so never shared."""
    with own_stack(tmp_path, restarts=QUICK_RESTARTS) as stack:
        yield stack


@dataclass
class ProgressLog:
    """Every (attempt, progress) the API showed for each job, polled while the faults happen."""

    seen: defaultdict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    steps: Counter[str] = field(default_factory=Counter)

    def regressions(self) -> dict[str, list[tuple[int, int]]]:
        return {
            job_id: seen
            for job_id, seen in self.seen.items()
            if any(a == b and q < p for (a, p), (b, q) in itertools.pairwise(seen))
        }


async def watch_progress(client: httpx.AsyncClient, job_ids: list[str], log: ProgressLog) -> None:
    while True:
        for job_id in job_ids:
            try:
                response = await client.get(f"/api/render-jobs/{job_id}", timeout=5)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                job = response.json()
                log.seen[job_id].append((job["attempt"], job["progress"]))
                if job["status"] == "PROCESSING" and job["step"]:
                    log.steps[job["step"]] += 1
        await asyncio.sleep(0.5)


async def until(condition_met: Callable[[], bool], *, timeout_sec: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_sec
    while not condition_met():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


def scratch_of(s3: Minio, bucket: str, job_ids: list[str]) -> list[str]:
    return [
        obj.object_name or ""
        for job_id in job_ids
        for obj in s3.list_objects(bucket, prefix=f"jobs/{job_id}/", recursive=True)
    ]


@pytest.fixture
async def gateway(chaos_stack: OwnStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=chaos_stack.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


@pytest.mark.timeout(900)
async def test_twenty_jobs_survive_killed_workers_a_nats_restart_and_a_long_outage(
    chaos_stack: OwnStack, gateway: httpx.AsyncClient
) -> None:
    workers, stack = chaos_stack.workers, chaos_stack.stack
    job_ids = [await start_lesson_job(gateway, f"chaos-video-{n}") for n in range(JOB_COUNT)]
    progress = ProgressLog()
    watcher = asyncio.create_task(watch_progress(gateway, job_ids, progress))
    try:
        await until(lambda: progress.steps["COMPOSE_VIDEO"] > 0, timeout_sec=120, what="a job in COMPOSE_VIDEO")
        workers.kill("compose")
        await until(lambda: progress.steps["GENERATE_TTS"] > 0, timeout_sec=120, what="a job in GENERATE_TTS")
        workers.kill("tts")
        await asyncio.sleep(3)
        await asyncio.to_thread(stack.restart, "nats")
        await asyncio.sleep(5)
        stack.kill("nats")
        await asyncio.sleep(OUTAGE_SEC)
        await asyncio.to_thread(stack.restart, "nats")
        finished = [await wait_for_job(gateway, job_id, timeout_sec=300) for job_id in job_ids]
    finally:
        watcher.cancel()

    assert [job["status"] for job in finished] == ["COMPLETED"] * JOB_COUNT, [j.get("error") for j in finished]
    assert all(job["attempt"] == 1 for job in finished), "no job needed a retry"
    assert not progress.regressions(), progress.regressions()

    supervisor = workers.supervise()
    assert supervisor.restarts["compose"] >= 1 and supervisor.restarts["tts"] >= 1, supervisor.restarts
    assert all(workers.is_running(name) for name in workers.services)

    messages = await stream_messages(chaos_stack.endpoints.nats_url)
    for job_id in job_ids:
        counts = Counter(m.subject for m in messages_of_job(messages, job_id))
        for subject in ("rf.render.narrated", "rf.render.composed", "rf.render.stored", "rf.render.completed"):
            assert counts[subject] == 1, (job_id, counts)
        assert counts["rf.render.failed"] == 0, (job_id, counts)

    s3 = s3_client(chaos_stack.endpoints)
    for job in finished:
        stored = list(s3.list_objects("reelflow-media", prefix=f"videos/{job['video_id']}/", recursive=True))
        assert len(stored) == ASSETS_PER_JOB, [obj.object_name for obj in stored]
    await until(lambda: not scratch_of(s3, "reelflow-work", job_ids), timeout_sec=60, what="scratch cleanup")
