"""The outbox: owed events are kept once each, published in order until the bus has them, and never lost or
blocking one another when the bus is down or an attempt already ended."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
import structlog
from nats.js.errors import APIError
from tests.bus_recording import RecordingBus

from reelflow.contracts import (
    Chapter,
    Event,
    LessonSpec,
    RenderCancel,
    RenderRequested,
    Scene,
    ScriptRequested,
    VideoScript,
)
from reelflow.gateway.outbox import OutboxRelay, OwedEvent, owed_events, with_owed, without_settled
from reelflow.runtime.failures import AttemptFinishedError, BusUnavailableError

AT = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def request(job_id: str = "job-1", attempt: int = 1) -> RenderRequested:
    scene = Scene(scene_id="s1", narration="Phishing is a scam.")
    spec = LessonSpec(script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Intro", scenes=[scene])]))
    return RenderRequested(job_id=job_id, video_id="video-1", attempt=attempt, spec=spec)


def test_an_event_is_owed_once_and_in_the_order_it_was_owed() -> None:
    cancel = RenderCancel(job_id="job-1", attempt=1)
    outbox = with_owed([], [request(), cancel], at=AT)
    again = with_owed(outbox, [cancel, request()], at=AT)
    assert [entry["key"] for entry in again] == [request().idempotency_key(), cancel.idempotency_key()]
    assert owed_events(again)[0].event() == request()
    assert owed_events(again)[1].event() == cancel
    assert without_settled(again, [request().idempotency_key()]) == outbox[1:]


class InMemoryOutboxStore:
    """The ``OutboxStore`` protocol over a dict of documents, each a list of owed events."""

    def __init__(self, documents: dict[tuple[str, str], list[Event]]) -> None:
        self.outboxes = {key: with_owed([], events, at=AT) for key, events in documents.items()}

    async def owing(self, limit: int) -> AsyncIterator[tuple[str, str, list[OwedEvent]]]:
        for (collection, document_id), outbox in list(self.outboxes.items())[:limit]:
            if outbox:
                yield collection, document_id, owed_events(outbox)

    async def owed_by(self, collection: str, document_id: str) -> list[OwedEvent]:
        return owed_events(self.outboxes.get((collection, document_id), []))

    async def settle(self, collection: str, document_id: str, keys: Sequence[str]) -> None:
        key = (collection, document_id)
        self.outboxes[key] = without_settled(self.outboxes[key], keys)

    def owed_keys(self) -> dict[tuple[str, str], list[str]]:
        return {key: [entry["key"] for entry in outbox] for key, outbox in self.outboxes.items() if outbox}


class FlakyBus(RecordingBus):
    """Publishes like the real bus would, except: down while ``down``; ``finished`` attempts refuse their events;
    ``broken`` event keys fail with an unexpected error; ``racing`` ones are being stored by another publish."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.finished: set[str] = set()
        self.broken: set[str] = set()
        self.racing: set[str] = set()

    async def publish(self, event: Event) -> None:
        if self.down:
            raise BusUnavailableError("NATS is down")
        if event.idempotency_key() in self.broken:
            raise RuntimeError("unexpected")
        if event.idempotency_key() in self.racing:
            raise APIError(code=409, err_code=10158, description="duplicate message id is in process")
        if event.ce_subject() in self.finished:
            raise AttemptFinishedError(f"{event.ce_subject()} already ended")
        await super().publish(event)


async def test_one_document_is_published_in_order_and_settled() -> None:
    cancel = RenderCancel(job_id="job-1", attempt=1)
    store = InMemoryOutboxStore({("render_jobs", "job-1"): [request(), cancel]})
    bus = FlakyBus()
    relay = OutboxRelay(store, bus)
    assert await relay.relay_document("render_jobs", "job-1") == 2
    assert bus.events == [request(), cancel]
    assert store.owed_keys() == {}


async def test_while_nats_is_down_every_event_stays_owed_and_goes_out_once_it_is_back() -> None:
    script = ScriptRequested(video_id="v", script_id="s-1", source_text="A lesson.")
    store = InMemoryOutboxStore({("render_jobs", "job-1"): [request()], ("script_requests", "s-1"): [script]})
    bus = FlakyBus()
    relay = OutboxRelay(store, bus)
    bus.down = True
    with pytest.raises(BusUnavailableError):
        await relay.relay_once()
    await relay.relay_now("render_jobs", "job-1")  # a request's own attempt never raises
    assert len(store.owed_keys()) == 2 and bus.events == []

    bus.down = False
    assert await relay.relay_once() == 2
    assert sorted(event.event_type for event in bus.events) == [
        "reelflow.render.requested.v1",
        "reelflow.script.requested.v1",
    ]
    assert store.owed_keys() == {}


async def test_an_event_of_an_attempt_that_already_ended_is_dropped_not_retried() -> None:
    store = InMemoryOutboxStore({("render_jobs", "job-1"): [RenderCancel(job_id="job-1", attempt=1)]})
    bus = FlakyBus()
    bus.finished.add("job-1")
    assert await OutboxRelay(store, bus).relay_once() == 1
    assert bus.events == [] and store.owed_keys() == {}


async def test_a_document_that_cannot_be_published_holds_up_no_other() -> None:
    stuck, fine = request("job-stuck"), request("job-fine")
    store = InMemoryOutboxStore({("render_jobs", "job-stuck"): [stuck], ("render_jobs", "job-fine"): [fine]})
    bus = FlakyBus()
    bus.broken.add(stuck.idempotency_key())
    assert await OutboxRelay(store, bus).relay_once() == 1
    assert bus.events == [fine]
    assert store.owed_keys() == {("render_jobs", "job-stuck"): [stuck.idempotency_key()]}


async def test_an_event_another_publish_is_storing_is_left_to_it_without_an_error() -> None:
    """A request's own publish and the relay it kicked may race for one event: JetStream answers the second 409
    "duplicate message id is in process". That is no failure: it stays owed for the next pass, logged as info."""
    event = request()
    store = InMemoryOutboxStore({("render_jobs", "job-1"): [event]})
    bus = FlakyBus()
    bus.racing.add(event.idempotency_key())
    with structlog.testing.capture_logs() as logged:
        assert await OutboxRelay(store, bus).relay_once() == 0
    assert [entry["log_level"] for entry in logged] == ["info"], logged
    assert store.owed_keys() == {("render_jobs", "job-1"): [event.idempotency_key()]}
    with structlog.testing.capture_logs() as logged:
        await OutboxRelay(store, bus).relay_now("render_jobs", "job-1")  # the request's own publish, racing too
    assert logged == []
    bus.racing.clear()
    assert await OutboxRelay(store, bus).relay_once() == 1 and store.owed_keys() == {}


async def test_what_was_published_before_nats_went_away_is_settled() -> None:
    first, second = request(attempt=1), RenderCancel(job_id="job-1", attempt=1)
    store = InMemoryOutboxStore({("render_jobs", "job-1"): [first, second]})

    class DropsAfterOne(FlakyBus):
        async def publish(self, event: Event) -> None:
            self.down = bool(self.events)
            await super().publish(event)

    bus = DropsAfterOne()
    with pytest.raises(BusUnavailableError):
        await OutboxRelay(store, bus).relay_document("render_jobs", "job-1")
    assert bus.events == [first]
    assert store.owed_keys() == {("render_jobs", "job-1"): [second.idempotency_key()]}


async def test_a_request_waits_for_the_bus_no_longer_than_its_timeout() -> None:
    store = InMemoryOutboxStore({("render_jobs", "job-1"): [request()]})

    class Hangs(FlakyBus):
        async def publish(self, event: Event) -> None:
            await asyncio.sleep(30)

    async with asyncio.timeout(2):
        await OutboxRelay(store, Hangs()).relay_now("render_jobs", "job-1", timeout_sec=0.1)
    assert store.owed_keys() == {("render_jobs", "job-1"): [request().idempotency_key()]}


async def test_the_background_relay_publishes_after_a_kick_and_survives_an_outage() -> None:
    store = InMemoryOutboxStore({("render_jobs", "job-1"): [request()]})
    bus = FlakyBus()
    bus.down = True
    relay = OutboxRelay(store, bus, idle_sec=0.05)
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)
        assert bus.events == [], "nothing while NATS is down, and the loop kept going"
        bus.down = False
        relay.kick()
        await asyncio.sleep(0.3)
        assert bus.events == [request()]
        assert store.owed_keys() == {}
    finally:
        running.cancel()
