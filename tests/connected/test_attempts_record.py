"""The attempts record on a real JetStream: one terminal outcome per attempt, and the bus refuses to contradict it."""

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import NoReturn, cast

import nats
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient

from reelflow.contracts import (
    STREAM_NAME,
    ErrorCode,
    ErrorInfo,
    Event,
    JobStatus,
    LessonSpec,
    RenderCancel,
    RenderCompleted,
    RenderFailed,
    RenderNarrated,
    SceneNarration,
    VideoScript,
)
from reelflow.contracts.scripts import Chapter, Scene
from reelflow.local.servers import StackEndpoints
from reelflow.runtime.attempts import ClaimOutcome, KeyValueAttemptStates, attempt_key
from reelflow.runtime.bus import EventBus, ensure_bus, handling_redelivery
from reelflow.runtime.failures import AttemptFinishedError, BusUnavailableError

pytestmark = pytest.mark.connected

ERROR = ErrorInfo(code=ErrorCode.RENDER_FAILED, message="ffmpeg exited with code 1")


@pytest.fixture
async def connection(stack: StackEndpoints) -> AsyncIterator[NatsClient]:
    client = await nats.connect(stack.nats_url, connect_timeout=5)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def attempts(connection: NatsClient) -> KeyValueAttemptStates:
    return KeyValueAttemptStates(await ensure_bus(connection))


async def test_the_first_terminal_outcome_wins_and_the_rest_lose(
    attempts: KeyValueAttemptStates, unique_id: str
) -> None:
    job = f"job-{unique_id}"
    assert await attempts.finished(job, 1) is None

    outcomes = await asyncio.gather(
        attempts.claim(job, 1, JobStatus.COMPLETED),
        attempts.claim(job, 1, JobStatus.CANCELED),
        attempts.claim(job, 1, JobStatus.FAILED),
    )

    winners = [claim for claim in outcomes if claim.outcome == ClaimOutcome.WON]
    assert len(winners) == 1
    winner = winners[0].record.status
    assert await attempts.finished(job, 1) == winner
    assert all(claim.outcome == ClaimOutcome.LOST for claim in outcomes if claim.record.status != winner)
    assert await attempts.finished(job, 2) is None, "a retry is a new attempt"


async def test_a_claim_again_by_the_winner_says_whether_it_was_published(
    attempts: KeyValueAttemptStates, unique_id: str
) -> None:
    job = f"job-{unique_id}"
    first = await attempts.claim(job, 3, JobStatus.FAILED)
    assert first.outcome == ClaimOutcome.WON
    again = await attempts.claim(job, 3, JobStatus.FAILED)
    assert again.outcome == ClaimOutcome.OURS_UNPUBLISHED and again.should_publish
    await attempts.mark_published(job, 3, again)
    assert (await attempts.claim(job, 3, JobStatus.FAILED)).outcome == ClaimOutcome.OURS_PUBLISHED
    assert (await attempts.claim(job, 3, JobStatus.CANCELED)).outcome == ClaimOutcome.LOST


async def test_job_ids_that_nats_keys_refuse_are_hashed(attempts: KeyValueAttemptStates, unique_id: str) -> None:
    job = f"spring job #{unique_id} / 한국어"
    assert attempt_key(job, 1).startswith("h")
    assert (await attempts.claim(job, 1, JobStatus.CANCELED)).outcome == ClaimOutcome.WON
    assert await attempts.finished(job, 1) == JobStatus.CANCELED
    assert await attempts.finished(f"job-{unique_id}", 1) is None


def _narrated(job: str, attempt: int) -> RenderNarrated:
    scene = Scene(scene_id="s1", narration="One idea.")
    spec = LessonSpec(script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Basics", scenes=[scene])]))
    narration = [SceneNarration(scene_id="s1", audio_key="a.wav", duration_sec=1.0)]
    return RenderNarrated(job_id=job, video_id="v", attempt=attempt, spec=spec, narration=narration)


async def test_the_bus_publishes_no_event_after_an_attempts_terminal_event(
    stack: StackEndpoints, connection: NatsClient, attempts: KeyValueAttemptStates, unique_id: str
) -> None:
    job = f"job-{unique_id}"
    broker = NatsBroker(stack.nats_url)
    await broker.start()
    try:
        bus = EventBus(broker, source="test", attempts=attempts)
        bus.connection = connection
        await bus.publish(_narrated(job, 1))
        await bus.publish(RenderCancel(job_id=job, attempt=1))

        with pytest.raises(AttemptFinishedError):
            await bus.publish(_narrated(job, 1))
        with pytest.raises(AttemptFinishedError):
            await bus.publish(RenderFailed(job_id=job, attempt=1, error=ERROR))
        with pytest.raises(AttemptFinishedError):
            await bus.publish(RenderCompleted(job_id=job, video_id="v", attempt=1, assets=[]))
        await bus.publish(_narrated(job, 2))  # the retry runs

        js = connection.jetstream()
        published = []
        sub = await js.subscribe("rf.render.*", stream=STREAM_NAME, ordered_consumer=True)
        try:
            while True:
                try:
                    message = await sub.next_msg(timeout=1)
                except nats.errors.TimeoutError:
                    break
                if job in message.data.decode():
                    published.append((message.subject, message.header.get("Nats-Msg-Id") if message.header else None))
        finally:
            await sub.unsubscribe()
        assert published == [
            ("rf.render.narrated", f"{job}:1:reelflow.render.narrated.v1"),
            ("rf.render.cancel", f"{job}:1:reelflow.render.cancel.v1"),
            ("rf.render.narrated", f"{job}:2:reelflow.render.narrated.v1"),
        ]
    finally:
        await broker.stop()


async def test_the_bus_refuses_at_once_while_nats_is_unreachable(stack: StackEndpoints, unique_id: str) -> None:
    broker = NatsBroker(stack.nats_url)
    await broker.start()
    closed = await nats.connect(stack.nats_url)
    await closed.close()
    try:
        bus = EventBus(broker, source="test")
        bus.connection = closed
        with pytest.raises(BusUnavailableError, match="connection is down"):
            await bus.publish(_narrated(f"job-{unique_id}", 1))
    finally:
        await broker.stop()


async def _stored_ids(connection: NatsClient, subject: str, job: str) -> list[str]:
    js = connection.jetstream()
    found: list[str] = []
    sub = await js.subscribe(subject, stream=STREAM_NAME, ordered_consumer=True)
    try:
        while True:
            try:
                message = await sub.next_msg(timeout=1)
            except nats.errors.TimeoutError:
                break
            if job in message.data.decode():
                found.append((message.header or {}).get("Nats-Msg-Id", ""))
    finally:
        await sub.unsubscribe()
    return found


async def _store_directly(connection: NatsClient, event: Event) -> int:
    """Put ``event`` in the stream as a first try would have, with its ``Nats-Msg-Id``; its stream sequence."""
    ack = await connection.jetstream().publish(
        event.subject_name(),
        event.model_dump_json().encode(),
        headers={"Nats-Msg-Id": event.idempotency_key()},
        stream=STREAM_NAME,
    )
    return ack.seq


@contextlib.asynccontextmanager
async def _bus_after_the_duplicate_window(
    stack: StackEndpoints, connection: NatsClient, attempts: KeyValueAttemptStates | None
) -> AsyncIterator[EventBus]:
    """A bus whose publishes come after JetStream's duplicate window has passed: the window is shortened to one
    second (instead of waiting two minutes) while the caller publishes, then put back."""
    js = connection.jetstream()
    config = (await js.stream_info(STREAM_NAME)).config
    window = config.duplicate_window
    broker = NatsBroker(stack.nats_url)
    await broker.start()
    try:
        await js.update_stream(dataclasses.replace(config, duplicate_window=1.0))
        await asyncio.sleep(1.5)
        bus = EventBus(broker, source="test", attempts=attempts, duplicate_window_sec=1.0)
        bus.connection = connection
        yield bus
    finally:
        await js.update_stream(dataclasses.replace(config, duplicate_window=window))
        await broker.stop()


async def test_a_terminal_event_stored_without_its_puback_is_not_stored_again_after_the_duplicate_window(
    stack: StackEndpoints, connection: NatsClient, attempts: KeyValueAttemptStates, unique_id: str
) -> None:
    """An uploader claimed COMPLETED and its publish reached the stream, but NATS went down before the PubAck (or
    before the record was marked published). Redelivered after an outage longer than JetStream's duplicate window,
    it must not store a second ``rf.render.completed``. The window is shortened to one second here instead of
    waiting two minutes; an attempt whose event really was lost is still published."""
    stored_job, lost_job = f"job-{unique_id}-stored", f"job-{unique_id}-lost"
    stored = RenderCompleted(job_id=stored_job, video_id="v", attempt=1, assets=[])
    lost = RenderCompleted(job_id=lost_job, video_id="v", attempt=1, assets=[])
    for event in (stored, lost):
        assert (await attempts.claim(event.job_id, 1, JobStatus.COMPLETED)).outcome == ClaimOutcome.WON
    await _store_directly(connection, stored)
    async with _bus_after_the_duplicate_window(stack, connection, attempts) as bus:
        await bus.publish(stored)
        await bus.publish(lost)

    assert await _stored_ids(connection, "rf.render.completed", stored_job) == [stored.idempotency_key()]
    assert await _stored_ids(connection, "rf.render.completed", lost_job) == [lost.idempotency_key()]
    for event in (stored, lost):
        assert (await attempts.claim(event.job_id, 1, JobStatus.COMPLETED)).outcome == ClaimOutcome.OURS_PUBLISHED


async def test_a_step_event_published_before_a_lost_ack_is_not_stored_again_on_redelivery(
    stack: StackEndpoints, connection: NatsClient, unique_id: str
) -> None:
    """A worker published its step's event, then NATS went down before the worker acked the message it answered.
    Redelivered after an outage longer than the duplicate window, the handler runs again: its event must not be
    stored a second time (the next step would run twice), while an event that really was lost is still published.
    The window is shortened to one second here instead of waiting two minutes."""
    stored_job, lost_job = f"job-{unique_id}-stored", f"job-{unique_id}-lost"
    stored, lost = _narrated(stored_job, 1), _narrated(lost_job, 1)
    sequence = await _store_directly(connection, stored)
    answered_sequence = sequence - 1  # the redelivered message was stored before the event that answered it
    async with _bus_after_the_duplicate_window(stack, connection, None) as bus:
        with handling_redelivery(answered_sequence, stored_at=time.time() - 1.5):
            await bus.publish(stored)
            await bus.publish(lost)

    assert await _stored_ids(connection, stored.subject_name(), stored_job) == [stored.idempotency_key()]
    assert await _stored_ids(connection, lost.subject_name(), lost_job) == [lost.idempotency_key()]


def _connection_that_must_not_search(connection: NatsClient) -> NatsClient:
    """The live connection's state, but any JetStream use (the search for a stored event) fails the test."""

    def jetstream(**_: object) -> NoReturn:
        raise AssertionError("the stream was searched although the duplicate window covers the publish")

    return cast(NatsClient, SimpleNamespace(is_connected=connection.is_connected, jetstream=jetstream))


async def test_within_the_duplicate_window_a_repeat_is_published_without_a_search_and_stored_once(
    stack: StackEndpoints, connection: NatsClient, attempts: KeyValueAttemptStates, unique_id: str
) -> None:
    """A redelivery soon after its message was stored, and a terminal event claimed moments ago, are published again
    at once: JetStream drops the repeat by its ``Nats-Msg-Id``. The search creates a consumer, which a cluster that
    just lost a node may not answer for minutes, so it is kept for publishes that may be past the window."""
    step_job, terminal_job = f"job-{unique_id}-step", f"job-{unique_id}-terminal"
    step, terminal = _narrated(step_job, 1), RenderCompleted(job_id=terminal_job, video_id="v", attempt=1, assets=[])
    sequence = await _store_directly(connection, step)
    assert (await attempts.claim(terminal_job, 1, JobStatus.COMPLETED)).outcome == ClaimOutcome.WON
    await _store_directly(connection, terminal)
    broker = NatsBroker(stack.nats_url)
    await broker.start()
    try:
        bus = EventBus(broker, source="test", attempts=attempts)
        bus.connection = _connection_that_must_not_search(connection)
        with handling_redelivery(sequence - 1, stored_at=time.time() - 5):
            await bus.publish(step)
        await bus.publish(terminal)
    finally:
        await broker.stop()

    assert await _stored_ids(connection, step.subject_name(), step_job) == [step.idempotency_key()]
    assert await _stored_ids(connection, terminal.subject_name(), terminal_job) == [terminal.idempotency_key()]
    assert (await attempts.claim(terminal_job, 1, JobStatus.COMPLETED)).outcome == ClaimOutcome.OURS_PUBLISHED
