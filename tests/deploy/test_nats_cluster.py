"""The prod bus shape on loopback: a 3-node JetStream cluster keeps a stream with 3 replicas working, with every
message delivered and acknowledged exactly once, through the loss of the node that leads it."""

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import nats
import nats.errors
import pytest
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig

from tests.deploy.nats_cluster import NatsCluster, answered

pytestmark = pytest.mark.connected

TIMEOUT_SEC = 5.0
FAILOVER_DEADLINE_SEC = 30.0
MESSAGES_BEFORE, MESSAGES_AFTER = 10, 10
_RETRY_SEC = 0.2


@pytest.fixture(scope="module")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    with NatsCluster(tmp_path_factory.mktemp("nats-cluster")) as cluster:
        yield cluster


def test_every_node_routes_to_the_two_others(nats_cluster: NatsCluster) -> None:
    for node in nats_cluster.nodes:
        routes = httpx.get(f"{node.monitor_url}/routez", timeout=TIMEOUT_SEC).json()["routes"]
        peers = {route["remote_name"] for route in routes}
        assert peers == {other.name for other in nats_cluster.nodes} - {node.name}, node.name


async def publish_until_acked(
    js: JetStreamContext, subject: str, message_id: str, deadline: float
) -> tuple[bool, bool]:
    """Publish with a Nats-Msg-Id, retrying through a leader election: (JetStream called it a duplicate, retried).

    A retried publish may be reported as a duplicate of its own first attempt, stored after all.
    """
    retried = False
    while True:
        try:
            ack = await js.publish(subject, message_id.encode(), headers={"Nats-Msg-Id": message_id})
            return bool(ack.duplicate), retried
        except (TimeoutError, nats.errors.Error):  # no leader yet: no responders, no stream response, timeout
            if time.monotonic() > deadline:
                raise
            retried = True
            await asyncio.sleep(_RETRY_SEC)


async def test_a_three_replica_stream_survives_the_loss_of_its_leader(
    nats_cluster: NatsCluster, unique_id: str
) -> None:
    stream, subject = f"CLUSTER_{unique_id}", f"test.{unique_id}.narrated"
    nc = await nats.connect(
        servers=nats_cluster.urls, connect_timeout=int(TIMEOUT_SEC), max_reconnect_attempts=-1, reconnect_time_wait=0.2
    )
    killed = None
    try:
        js = nc.jetstream(timeout=TIMEOUT_SEC)
        config = StreamConfig(
            name=stream, subjects=[subject], num_replicas=3, storage=StorageType.FILE, duplicate_window=120
        )
        await answered(lambda: js.add_stream(config))
        info = await answered(lambda: js.stream_info(stream))
        assert info.config.num_replicas == 3
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2

        # Replicas of a service share one durable pull consumer; it inherits the stream's 3 replicas.
        consumer = await js.pull_subscribe(subject, durable="compose", stream=stream)
        deliveries: Counter[str] = Counter()
        acked: Counter[str] = Counter()

        async def consume(until: float, want: int) -> None:
            while sum(acked.values()) < want:
                try:
                    messages = await consumer.fetch(5, timeout=1.0)
                except (TimeoutError, nats.errors.Error):
                    if time.monotonic() > until:
                        raise
                    continue
                for message in messages:
                    deliveries[message.data.decode()] += 1
                    await message.ack_sync(timeout=TIMEOUT_SEC)
                    acked[message.data.decode()] += 1

        ids = [f"{unique_id}:{index}" for index in range(MESSAGES_BEFORE + MESSAGES_AFTER)]
        deadline = time.monotonic() + FAILOVER_DEADLINE_SEC
        for message_id in ids[:MESSAGES_BEFORE]:
            duplicate, retried = await publish_until_acked(js, subject, message_id, deadline)
            assert not duplicate or retried, message_id
        await consume(deadline, MESSAGES_BEFORE // 2)

        killed = info.cluster.leader
        assert killed is not None
        await asyncio.to_thread(nats_cluster.kill, killed)

        deadline = time.monotonic() + FAILOVER_DEADLINE_SEC
        for message_id in ids[MESSAGES_BEFORE:]:
            duplicate, retried = await publish_until_acked(js, subject, message_id, deadline)
            assert not duplicate or retried, message_id
        # The duplicate window survives the failover: a republished id is recognised, not stored twice.
        duplicate, _ = await publish_until_acked(js, subject, ids[0], deadline)
        assert duplicate
        await consume(deadline, len(ids))

        assert set(acked) == set(ids)
        assert max(acked.values()) == 1, "a message was acknowledged twice"
        assert max(deliveries.values()) == 1, f"redelivered: {[key for key, n in deliveries.items() if n > 1]}"
        after = await js.stream_info(stream)
        assert after.state.messages == len(ids)
        assert after.cluster is not None and after.cluster.leader not in (None, killed)

        # The lost node comes back with its store and catches up.
        await asyncio.to_thread(nats_cluster.restart, killed)
        deadline = time.monotonic() + FAILOVER_DEADLINE_SEC
        while True:
            caught_up = await js.stream_info(stream)
            replicas = {peer.name: peer for peer in (caught_up.cluster.replicas if caught_up.cluster else None) or []}
            if killed in replicas and replicas[killed].current:
                break
            assert time.monotonic() < deadline, f"{killed} did not catch up: {replicas}"
            await asyncio.sleep(_RETRY_SEC)
    finally:
        if killed is not None and not nats_cluster.node(killed).is_running():
            await asyncio.to_thread(nats_cluster.restart, killed)
        try:
            await nc.jetstream(timeout=TIMEOUT_SEC).delete_stream(stream)
        finally:
            await nc.close()
