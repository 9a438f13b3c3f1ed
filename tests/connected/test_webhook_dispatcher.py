"""The webhook queue and sender on the real MongoDB-wire server, with an injected clock (no sleeping through the
schedule) and a local receiver that checks signatures: retries on the schedule, the lease two replicas share, a
send that died mid-way, 410, and a host that resolves to a private address."""

import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from tests.webhook_receiver import Receiver, webhook_receiver

from reelflow.contracts import JobStatus, RenderJob, move_job
from reelflow.gateway.ownership import VideoKind, VideoRegistry
from reelflow.gateway.webhook_dispatcher import DeliveryPolicy, WebhookDispatcher
from reelflow.gateway.webhook_events import WebhookEventType
from reelflow.gateway.webhook_schedule import STANDARD_RETRY_DELAYS_SEC, AttemptOutcome
from reelflow.gateway.webhook_signing import new_webhook_secret
from reelflow.gateway.webhook_store import SubscriptionRecord, WebhookStore
from reelflow.gateway.webhook_targets import Resolver
from reelflow.local.servers import StackEndpoints

pytestmark = pytest.mark.connected
WORKSPACE = "hooks"
CALLBACK_SECRET = new_webhook_secret()


class FakeClock:
    """Starts 150 s before the wall clock, so signatures made at its times pass the receiver's ±5 min window."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp() - 150

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
async def mongo(stack: StackEndpoints, unique_id: str) -> AsyncIterator[tuple[WebhookStore, VideoRegistry]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    store = WebhookStore(client, f"webhooks-{unique_id}")
    await store.ensure_indexes()
    registry = VideoRegistry(client, f"webhooks-{unique_id}")
    await registry.claim("video-1", WORKSPACE, VideoKind.LESSON, "Lifting")
    try:
        yield store, registry
    finally:
        await client.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def dispatcher(
    mongo: tuple[WebhookStore, VideoRegistry],
    http: httpx.AsyncClient,
    clock: FakeClock,
    *,
    allow_private: bool = True,
    resolver: Resolver | None = None,
) -> WebhookDispatcher:
    policy = DeliveryPolicy(
        timeout_sec=5, lease_sec=60, allow_private_targets=allow_private, callback_secret=CALLBACK_SECRET
    )
    if resolver is None:
        return WebhookDispatcher(*mongo, http, policy, clock=clock)
    return WebhookDispatcher(*mongo, http, policy, clock=clock, resolver=resolver)


async def subscribe(store: WebhookStore, url: str, *event_types: WebhookEventType) -> SubscriptionRecord:
    record = SubscriptionRecord(
        subscription_id=f"wh_{secrets.token_hex(12)}",
        workspace_id=WORKSPACE,
        url=url,
        event_types=event_types or (WebhookEventType.JOB_COMPLETED,),
        secret=new_webhook_secret(),
        description="",
        created_at=datetime.now(UTC).timestamp(),
    )
    await store.add_subscription(record)
    return record


def completed_job(job_id: str = "job-1", callback_url: str | None = None) -> RenderJob:
    at = datetime.now(UTC)
    spec: dict[str, Any] | None = None
    if callback_url is not None:
        spec = {
            "template": "lesson",
            "callback_url": callback_url,
            "script": {
                "chapters": [{"chapter_id": "c", "title": "t", "scenes": [{"scene_id": "s", "narration": "n"}]}]
            },
        }
    job = RenderJob.model_validate(
        {"job_id": job_id, "video_id": "video-1", "spec": spec, "created_at": at, "updated_at": at}
    )
    return move_job(move_job(job, JobStatus.PROCESSING, at=at), JobStatus.COMPLETED, at=at)


async def test_a_failing_receiver_is_retried_on_the_schedule_and_the_log_shows_each_attempt(
    mongo: tuple[WebhookStore, VideoRegistry], http: httpx.AsyncClient, receiver: Receiver
) -> None:
    store, _ = mongo
    clock = FakeClock()
    sender = dispatcher(mongo, http, clock)
    subscription = await subscribe(store, receiver.route("/flaky", answers=(500, 503)))
    receiver.route("/flaky", secret=subscription.secret, answers=(500, 503))
    job = completed_job()
    await sender.enqueue_job_end(job)
    await sender.enqueue_job_end(job)  # the ledger saw the event twice: it is queued once

    assert (await sender.deliver_due()).outcomes == [AttemptOutcome.RETRY]
    clock.now += 4.9
    assert (await sender.deliver_due()).attempted == 0  # the second attempt is due 5 s after the first
    clock.now += 0.1
    assert (await sender.deliver_due()).outcomes == [AttemptOutcome.RETRY]
    clock.now += 299
    assert (await sender.deliver_due()).attempted == 0
    clock.now += 1
    assert (await sender.deliver_due()).outcomes == [AttemptOutcome.DELIVERED]
    clock.now += 10 * 3600
    assert (await sender.deliver_due()).attempted == 0

    got = receiver.of("/flaky", "job.completed", job_id="job-1")
    assert [r.answered for r in got] == [500, 503, 200]
    assert all(r.verified for r in got), [r.problem for r in got]
    assert len({r.headers["webhook-id"] for r in got}) == 1  # one message id across retries
    [logged] = await store.deliveries(subscription_id=subscription.subscription_id, limit=10)
    assert logged["state"] == "delivered" and logged["next_attempt_at"] is None
    assert [(a["number"], a["status_code"]) for a in logged["attempts"]] == [(1, 500), (2, 503), (3, 200)]
    assert (await store.subscription(subscription.subscription_id)).failing_since is None  # type: ignore[union-attr]

    # The log keeps settled deliveries for the retention (30 days by default), then forgets them.
    clock.now += 29 * 24 * 3600
    assert await sender.forget_old() == 0
    clock.now += 2 * 24 * 3600
    assert await sender.forget_old() == 1
    assert await store.deliveries(subscription_id=subscription.subscription_id, limit=10) == []


async def test_two_replicas_never_send_one_delivery_twice_and_a_dead_senders_lease_runs_out(
    mongo: tuple[WebhookStore, VideoRegistry], http: httpx.AsyncClient, receiver: Receiver
) -> None:
    store, _ = mongo
    clock = FakeClock()
    first, second = dispatcher(mongo, http, clock), dispatcher(mongo, http, clock)
    receiver.route("/cb", secret=CALLBACK_SECRET)
    await first.enqueue_job_end(completed_job("job-a", receiver.url("/cb")))
    reports = [await first.deliver_due(), await second.deliver_due()]
    assert sorted(report.attempted for report in reports) == [0, 1]
    assert len(receiver.of("/cb", "job.completed", job_id="job-a")) == 1
    assert receiver.of("/cb")[0].verified

    # A replica claims a delivery and dies before sending it: nobody sends it until its lease runs out.
    await first.enqueue_job_end(completed_job("job-b", receiver.url("/cb")))
    [due] = await store.due(clock.now, 10)
    assert await store.claim(due, until=clock.now + 60, holder="a replica that died") is not None
    assert (await second.deliver_due()).attempted == 0
    clock.now += 61
    assert (await second.deliver_due()).outcomes == [AttemptOutcome.DELIVERED]
    [callback] = await store.deliveries(job_id="job-b", limit=10)
    assert callback["state"] == "delivered" and [a["number"] for a in callback["attempts"]] == [1]


async def test_410_disables_the_subscription_at_once(
    mongo: tuple[WebhookStore, VideoRegistry], http: httpx.AsyncClient, receiver: Receiver
) -> None:
    store, _ = mongo
    clock = FakeClock()
    sender = dispatcher(mongo, http, clock)
    subscription = await subscribe(store, receiver.route("/gone", answers=(410,)))
    await sender.enqueue_job_end(completed_job("job-1"))
    assert (await sender.deliver_due()).outcomes == [AttemptOutcome.GONE]
    after = await store.subscription(subscription.subscription_id)
    assert after is not None and not after.enabled and after.disabled_reason == "the endpoint answered 410 Gone"
    [logged] = await store.deliveries(subscription_id=subscription.subscription_id, limit=10)
    assert logged["state"] == "failed" and logged["attempts"][0]["status_code"] == 410
    await sender.enqueue_job_end(completed_job("job-2"))  # a disabled subscription gets nothing new
    assert len(await store.deliveries(subscription_id=subscription.subscription_id, limit=10)) == 1


async def test_a_host_resolving_to_a_private_address_is_refused_at_send_time_and_logged(
    mongo: tuple[WebhookStore, VideoRegistry], http: httpx.AsyncClient, receiver: Receiver
) -> None:
    store, _ = mongo

    async def to_loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    sender = dispatcher(mongo, http, FakeClock(), allow_private=False, resolver=to_loopback)
    # Saved before the rules (or with a name that resolved elsewhere then): the send-time check still holds.
    port = receiver.base_url.rsplit(":", 1)[1]
    subscription = await subscribe(store, f"http://hooks.example.test:{port}/ssrf")
    await sender.enqueue_job_end(completed_job())
    assert (await sender.deliver_due()).outcomes == [AttemptOutcome.REFUSED]
    assert receiver.of("/ssrf") == []
    [logged] = await store.deliveries(subscription_id=subscription.subscription_id, limit=10)
    assert logged["state"] == "failed" and logged["attempts"][0]["status_code"] is None
    assert "resolves to 127.0.0.1, a loopback address" in logged["attempts"][0]["error"]


def test_the_default_schedule_is_the_standard_one() -> None:
    assert DeliveryPolicy().retry_delays_sec == STANDARD_RETRY_DELAYS_SEC
