"""Scaling out, proven on the prod bus shape: a real 3-node NATS JetStream cluster on loopback with the REELFLOW
stream and the attempts record at 3 replicas, two replicas each of tts and compose, one of every other service.
Mid-run one compose replica (busy with a job) and the NATS node leading the stream are killed with SIGKILL and stay
down. Every job still completes, each exactly once.

Slow (two to four minutes on a loaded 2-core machine): three nats-server processes, MongoDB and S3, eight service
processes, and jobs that wait out the killed replica's ack_wait before another replica takes them over.
"""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import pytest
from nats.aio.client import Client as NatsClient
from tests.deploy.nats_cluster import NatsCluster, answered
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import messages_of_job, start_lesson_job, stream_messages, wait_for_job
from tests.service_replicas import Replica, ServiceReplicas

from reelflow.contracts import STREAM_NAME
from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.servers import EmbeddedStack
from reelflow.runtime.attempts import ATTEMPTS_BUCKET
from reelflow.runtime.bus import ensure_bus

pytestmark = [pytest.mark.connected, pytest.mark.reliability]

JOB_COUNT = 8
REPLICAS = {"script": 1, "tts": 2, "compose": 2, "storage": 1, "uploader": 1, "gateway": 1}
STREAM_REPLICAS = 3
ONCE_PER_JOB = ("rf.render.requested", "rf.render.narrated", "rf.render.composed", "rf.render.stored")
BUSY_WITHIN_SEC = 180.0
JOB_TIMEOUT_SEC = 300.0


@dataclass(frozen=True)
class ScaledOut:
    cluster: NatsCluster
    replicas: ServiceReplicas
    gateway_url: str


async def connect(urls: list[str]) -> NatsClient:
    return await nats.connect(servers=urls, connect_timeout=5, max_reconnect_attempts=-1, reconnect_time_wait=0.5)


async def stream_replica_counts(urls: list[str]) -> tuple[int, int]:
    """(REELFLOW's replicas, the attempts bucket's replicas)."""
    nc = await connect(urls)
    try:
        js = nc.jetstream(timeout=10)
        stream = await js.stream_info(STREAM_NAME)
        bucket = await js.stream_info(f"KV_{ATTEMPTS_BUCKET}")
        return stream.config.num_replicas or 1, bucket.config.num_replicas or 1
    finally:
        await nc.close()


@pytest.fixture
async def scaled_out(tmp_path: Path) -> AsyncIterator[ScaledOut]:
    with (
        NatsCluster(tmp_path / "nats") as cluster,
        EmbeddedStack(tmp_path / "stack", servers=("mongo", "s3")) as endpoints,
    ):
        # The bus as a single-node NATS left it: stream and attempts bucket at one replica. The services must
        # raise both to REELFLOW_STREAM_REPLICAS when they start.
        nc = await connect(cluster.urls)
        try:
            await answered(lambda: ensure_bus(nc, replicas=1, timeout_sec=10))
        finally:
            await nc.close()
        gateway_port = free_port()
        env = endpoints.service_env() | {
            "REELFLOW_NATS_URL": ",".join(cluster.urls),
            "REELFLOW_STREAM_REPLICAS": str(STREAM_REPLICAS),
        }
        replicas = ServiceReplicas(env, tmp_path / "logs", REPLICAS, gateway_port=gateway_port)
        replicas.start()
        try:
            await replicas.wait_ready(timeout_sec=180)
            yield ScaledOut(cluster, replicas, f"http://{LOOPBACK}:{gateway_port}")
        finally:
            await asyncio.to_thread(replicas.stop)


async def first_busy(replicas: ServiceReplicas, service: str) -> Replica:
    """The first replica of ``service`` seen working on a message (its in-flight gauge, read from /metrics)."""
    deadline = time.monotonic() + BUSY_WITHIN_SEC
    while time.monotonic() < deadline:
        for replica in replicas.of(service):
            if await replicas.metric(replica, "reelflow_messages_in_flight", {"step": service}) >= 1:
                return replica
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {service} replica was busy within {BUSY_WITHIN_SEC:g} s")


async def stream_leader(urls: list[str]) -> str:
    nc = await connect(urls)
    try:
        info = await nc.jetstream(timeout=10).stream_info(STREAM_NAME)
    finally:
        await nc.close()
    assert info.cluster is not None and info.cluster.leader, info.cluster
    return info.cluster.leader


@pytest.mark.timeout(900)
async def test_jobs_complete_exactly_once_on_a_nats_cluster_through_the_loss_of_a_node_and_a_compose_replica(
    scaled_out: ScaledOut, unique_id: str
) -> None:
    cluster, replicas = scaled_out.cluster, scaled_out.replicas
    assert await answered(lambda: stream_replica_counts(cluster.urls)) == (STREAM_REPLICAS, STREAM_REPLICAS)
    started = time.monotonic()

    async with httpx.AsyncClient(base_url=scaled_out.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        job_ids = [await start_lesson_job(client, f"scale-{unique_id}-{n}") for n in range(JOB_COUNT)]

        busy = await first_busy(replicas, "compose")
        replicas.kill(busy)
        leader = await answered(lambda: stream_leader(cluster.urls))
        await asyncio.to_thread(cluster.kill, leader)
        killed_at = time.monotonic() - started

        finished = [await wait_for_job(client, job_id, timeout_sec=JOB_TIMEOUT_SEC) for job_id in job_ids]

    elapsed = time.monotonic() - started
    assert [job["status"] for job in finished] == ["COMPLETED"] * JOB_COUNT, [job.get("error") for job in finished]
    assert all(job["attempt"] == 1 for job in finished), "no job needed a retry"

    survivors = [node for node in cluster.nodes if node.is_running()]
    assert len(survivors) == len(cluster.nodes) - 1 and leader not in {node.name for node in survivors}
    messages = await answered(lambda: stream_messages(survivors[0].url))
    for job_id in job_ids:
        counts = Counter(message.subject for message in messages_of_job(messages, job_id))
        assert counts["rf.render.completed"] == 1, (job_id, counts)
        assert all(counts[subject] == 1 for subject in ONCE_PER_JOB), (job_id, counts)
        assert counts["rf.render.failed"] == 0, (job_id, counts)

    # Every replica still running is ready again: each reconnected to a node that is alive.
    await replicas.wait_ready(timeout_sec=60)
    assert [replica.name for replica in replicas.replicas if not replica.process.is_running()] == [busy.name]
    compose_left = [replica for replica in replicas.of("compose") if replica is not busy]
    metric, labels = "reelflow_redeliveries_total", {"step": "compose"}
    redelivered = sum([await replicas.metric(replica, metric, labels) for replica in compose_left])
    print(  # noqa: T201 - the run's figures, shown with -s
        f"scale-out: {JOB_COUNT} jobs in {elapsed:.0f} s; killed {busy.name} and {leader} at {killed_at:.0f} s; "
        f"compose redeliveries on the survivor: {redelivered:g}"
    )
