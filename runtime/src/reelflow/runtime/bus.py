"""The NATS side of every service: the REELFLOW stream, durable consumer settings, CloudEvents publishing, progress."""

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsRouter, PullSub
from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from reelflow.contracts import (
    STREAM_NAME,
    STREAM_SUBJECTS,
    Event,
    JobEvent,
    JobStatus,
    ProgressUpdate,
    RenderCancel,
    RenderCompleted,
    RenderFailed,
)
from reelflow.runtime.attempts import ATTEMPTS_BUCKET, ATTEMPTS_TTL_SEC, AttemptStates, ClaimOutcome
from reelflow.runtime.failures import AttemptFinishedError, BusUnavailableError
from reelflow.runtime.telemetry import inject_traceparent

DUPLICATE_WINDOW_SEC = 120.0
# How long one pull waits for a message; also how quickly an idle consume loop notices it should stop.
PULL_TIMEOUT_SEC = 5.0
# How far before its claim a terminal event is looked for in the stream, and how much of the duplicate window is
# not trusted: a claim's clock is the service's (maybe another replica's), a message's timestamp the server's.
CLOCK_SLACK_SEC = 60.0
STORED_SCAN_BATCH = 256
STREAM_MAX_AGE_SEC = 7 * 24 * 3600.0
CE_SPEC_VERSION = "1.0"

log = structlog.get_logger("reelflow.bus")


@dataclass(frozen=True)
class Redelivery:
    """A redelivered message being handled: its stream sequence, and when the stream stored it (epoch seconds)."""

    stream_sequence: int
    stored_at: float


# The message being handled, while it is a redelivery (see :func:`handling_redelivery`).
_redelivery: ContextVar[Redelivery | None] = ContextVar("redelivery", default=None)


@contextlib.contextmanager
def handling_redelivery(stream_sequence: int, stored_at: float) -> Iterator[None]:
    """While a redelivered message is handled, the events its handler publishes may first be looked for in the stream.

    The first delivery may have published them and then lost its ack (NATS went down in between). Within the
    duplicate window JetStream drops the repeat, so a publish then is enough. After a longer outage it would store a
    second copy, and the next step would run twice: then the stream is searched first. Whatever the first delivery
    published was stored after the message itself, so the search starts at the message's own stream sequence, and
    the window is counted from when the message was stored.
    """
    reset = _redelivery.set(Redelivery(stream_sequence, stored_at))
    try:
        yield
    finally:
        _redelivery.reset(reset)


@dataclass(frozen=True)
class Delivery:
    """How one durable pull consumer receives messages. Declared where its subscriber is registered
    (:meth:`StepRouter.step`).

    - ``ack_wait_sec``: a message held by a crashed worker is redelivered after this; a running handler sends
      in-progress acks every third of it, so a long step stays alive however long it runs.
    - ``max_deliver``: after this many deliveries a retryable failure becomes final (DLQ + failed event).
    - ``backoff_sec``: nack delay before delivery n+1 (the last value repeats).
    - ``handler_timeout_sec``: the step's own deadline; past it the attempt fails with TIMEOUT.
    - ``step``: the step a failure is blamed on when the handler had not reported one yet.
    - ``publish_failure``: publish ``rf.render.failed``/``rf.script.failed`` for a final failure. The ledger
      turns this off: a failure event about a failure event could otherwise loop.
    - ``drop_finished_attempts``: ack and drop a message whose job attempt is already COMPLETED, FAILED or
      CANCELED. Consumers *of* terminal events (the ledger, scratch cleanup) turn it off.
    - ``dead_letter_unreadable``: dead-letter a message that cannot be read (not JSON, or invalid for its
      contract). An observer that reads every subject (the ledger) turns it off: the step that owns the subject
      reads the same message and dead-letters it, so each bad message reaches the DLQ once.

    A replica works on one message of a consumer at a time: a message fetched but waiting for a free worker
    would get no in-progress acks and be redelivered to another replica while it waits. Scale with replicas.
    """

    durable: str
    ack_wait_sec: float = 15.0
    max_deliver: int = 5
    backoff_sec: tuple[float, ...] = (2.0, 10.0, 30.0, 60.0)
    handler_timeout_sec: float = 300.0
    publish_failure: bool = True
    drop_finished_attempts: bool = True
    dead_letter_unreadable: bool = True
    step: str | None = None

    def backoff_after(self, delivered: int) -> float:
        index = max(0, min(delivered - 1, len(self.backoff_sec) - 1))
        return self.backoff_sec[index] if self.backoff_sec else 0.0

    def subscriber_options(self) -> dict[str, Any]:
        """Keyword arguments for ``broker.subscriber(subject, **...)``: durable pull consumer, explicit ack."""
        return {
            "durable": self.durable,
            "stream": JStream(STREAM_NAME, declare=False),
            "pull_sub": PullSub(batch_size=1, timeout=PULL_TIMEOUT_SEC),
            "config": ConsumerConfig(
                durable_name=self.durable,
                ack_policy=JsAckPolicy.EXPLICIT,
                ack_wait=self.ack_wait_sec,
                max_deliver=self.max_deliver,
                deliver_policy=DeliverPolicy.ALL,
                max_ack_pending=16,
            ),
            "ack_policy": AckPolicy.MANUAL,
        }


HandlerT = TypeVar("HandlerT", bound=Callable[..., Awaitable[None]])


class StepRouter(NatsRouter):
    """A service's subscribers, each registered together with how it receives messages.

    ``step`` subscribers are durable JetStream pull consumers with a :class:`Delivery`; ``live`` subscribers hear
    core NATS (every replica, no reply is ever sent). The runtime refuses to start a router that has a subscriber
    registered any other way, so no subscriber runs with implicit delivery.
    """

    def __init__(self) -> None:
        super().__init__()
        self.deliveries: dict[str, Delivery] = {}
        self.live_subjects: set[str] = set()

    def step(self, subject: str, delivery: Delivery) -> Callable[[HandlerT], HandlerT]:
        """Register a handler on ``subject`` through the durable pull consumer that ``delivery`` describes."""
        if subject in self.deliveries:
            raise ValueError(f"{subject} already has a step subscriber ({self.deliveries[subject].durable})")
        self.deliveries[subject] = delivery
        subscriber: Any = self.subscriber(subject, **delivery.subscriber_options())
        return self._register(subscriber)

    def live(self, subject: str) -> Callable[[HandlerT], HandlerT]:
        """Register a handler of core-NATS messages (progress, cancel): every replica hears them, none replies."""
        self.live_subjects.add(subject)
        subscriber: Any = self.subscriber(subject, no_reply=True)
        return self._register(subscriber)

    @staticmethod
    def _register(subscriber: Callable[[Any], Any]) -> Callable[[HandlerT], HandlerT]:
        def register(handler: HandlerT) -> HandlerT:
            subscriber(handler)
            return handler

        return register

    def undeclared_subjects(self) -> list[str]:
        """Subjects subscribed on this router without a delivery policy or a ``live`` declaration."""
        declared = set(self.deliveries) | self.live_subjects
        subjects = {getattr(getattr(sub, "subject", None), "template", "") for sub in self.subscribers}
        return sorted(subjects - declared)


def stream_config(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=STREAM_NAME,
        subjects=list(STREAM_SUBJECTS),
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SEC,
        max_age=STREAM_MAX_AGE_SEC,
        num_replicas=replicas,
    )


async def ensure_bus(connection: NatsClient, *, replicas: int = 1, timeout_sec: float = 5.0) -> KeyValue:
    """Create the REELFLOW stream and the attempts bucket, or bring both to the expected config; return the bucket."""
    js = connection.jetstream(timeout=timeout_sec)
    config = stream_config(replicas)
    try:
        await js.stream_info(STREAM_NAME)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
    try:
        bucket = await js.key_value(ATTEMPTS_BUCKET)
    except BucketNotFoundError:
        return await js.create_key_value(
            bucket=ATTEMPTS_BUCKET,
            history=1,
            ttl=ATTEMPTS_TTL_SEC,
            storage=StorageType.FILE,
            replicas=replicas,
            description="reelflow: the terminal status of each job attempt (see reelflow.runtime.attempts)",
        )
    # A bucket made before the cluster grew keeps its old replica count unless it is raised here as well.
    bucket_stream = await js.stream_info(f"KV_{ATTEMPTS_BUCKET}")
    if bucket_stream.config.num_replicas != replicas:
        await js.update_stream(dataclasses.replace(bucket_stream.config, num_replicas=replicas))
    return bucket


def cloudevent_headers(event: Event, *, source: str, event_id: str, at: datetime) -> dict[str, str]:
    """CloudEvents NATS binding, binary mode, plus the idempotency key JetStream deduplicates on."""
    return {
        "ce-specversion": CE_SPEC_VERSION,
        "ce-id": event_id,
        "ce-type": event.event_type,
        "ce-source": source,
        "ce-subject": event.ce_subject(),
        "ce-time": at.isoformat(),
        "content-type": "application/json",
        "Nats-Msg-Id": event.idempotency_key(),
    }


TERMINAL_STATUS_BY_EVENT: dict[type[Event], JobStatus] = {
    RenderCompleted: JobStatus.COMPLETED,
    RenderFailed: JobStatus.FAILED,
    RenderCancel: JobStatus.CANCELED,
}


def attempt_of(event: Event) -> tuple[str, int] | None:
    """``(job_id, attempt)`` of an event about a render job attempt; None for script and operational events."""
    if isinstance(event, JobEvent | RenderFailed | RenderCancel):
        return event.job_id, event.attempt
    return None


class EventBus:
    """Publishes contract events: stored ones through JetStream (acked), progress on core NATS.

    With ``attempts``, no event contradicts a finished attempt: a terminal event is published only by the caller
    whose claim finished the attempt, and any event of an attempt already finished raises
    :class:`AttemptFinishedError` instead of being published.
    """

    def __init__(
        self,
        broker: NatsBroker,
        *,
        source: str,
        timeout_sec: float = 10.0,
        attempts: AttemptStates | None = None,
        duplicate_window_sec: float = DUPLICATE_WINDOW_SEC,
    ) -> None:
        self._broker = broker
        self._source = f"reelflow/{source}"
        self._timeout_sec = timeout_sec
        self._duplicate_window_sec = duplicate_window_sec
        self.attempts = attempts
        # The live NATS connection once the service has connected; None on FastStream's in-memory test broker.
        self.connection: NatsClient | None = None

    def is_connected(self) -> bool:
        return self.connection is None or self.connection.is_connected

    async def publish(self, event: Event) -> None:
        body = event.model_dump_json().encode()
        if isinstance(event, ProgressUpdate):
            await self._broker.publish(body, event.subject_name(), headers=self._headers(event))
            return
        if not self.is_connected():
            # Fail at once rather than buffer: a buffered publish would still go out when NATS is back,
            # after its caller was told it failed.
            raise BusUnavailableError(f"{event.subject_name()} not published: the NATS connection is down")
        attempt = attempt_of(event) if self.attempts is not None else None
        if attempt is None or self.attempts is None:
            await self._publish_unless_republished(event, body)
            return
        terminal = TERMINAL_STATUS_BY_EVENT.get(type(event))
        if terminal is None:
            finished = await self.attempts.finished(*attempt)
            if finished is not None:
                raise AttemptFinishedError(
                    f"{event.subject_name()} not published: job {attempt[0]} attempt {attempt[1]} is already {finished}"
                )
            await self._publish_unless_republished(event, body)
            return
        claim = await self.attempts.claim(*attempt, terminal)
        if not claim.should_publish:
            raise AttemptFinishedError(
                f"{event.subject_name()} not published: job {attempt[0]} attempt {attempt[1]} already ended "
                f"{claim.record.status}"
            )
        claimed_at = claim.record.claimed_at
        if (
            claim.outcome is ClaimOutcome.WON
            or not self._maybe_past_duplicate_window(claimed_at)
            or not await self._already_stored(event, claimed_at=claimed_at)
        ):
            await self._publish_stored(event, body)
        await self.attempts.mark_published(*attempt, claim)

    async def _publish_unless_republished(self, event: Event, body: bytes) -> None:
        """Publish, unless the handler is answering a redelivery whose first delivery already published this."""
        redelivery = _redelivery.get()
        if (
            redelivery is None
            or not self._maybe_past_duplicate_window(redelivery.stored_at)
            or not await self._already_stored(event, after_sequence=redelivery.stream_sequence)
        ):
            await self._publish_stored(event, body)

    def _maybe_past_duplicate_window(self, since: float | None) -> bool:
        """Whether an earlier publish made after ``since`` (epoch seconds) may be older than the duplicate window.

        Within it, a publish with the event's ``Nats-Msg-Id`` is enough: JetStream drops a repeat. The search is
        kept for longer outages, because it creates a consumer, which a cluster that just lost a node may not
        answer for a while (a scale-out test saw that time out for two minutes while publishes went through).
        """
        if since is None:
            return True
        return time.time() - since > self._duplicate_window_sec - CLOCK_SLACK_SEC

    async def _already_stored(
        self, event: Event, *, claimed_at: float | None = None, after_sequence: int | None = None
    ) -> bool:
        """Whether the stream holds this event already, searched from ``after_sequence`` or from ``claimed_at``.

        A terminal event: an earlier try claimed the outcome but never marked it published (NATS went down between
        the publish and its PubAck, or between the PubAck and the mark); it is searched for from the claim on. Any
        other event: it is searched for after the redelivered message its handler is answering
        (:func:`handling_redelivery`). The event may be stored, and once the duplicate window has passed (a long
        outage) JetStream would store a second copy, so the stream is read (headers only, this event's subject) for
        its ``Nats-Msg-Id``. A rare path: it runs only after such a fault, and only when the earlier publish may be
        past the duplicate window (:meth:`_maybe_past_duplicate_window`).
        """
        if self.connection is None:
            return False
        since = None if claimed_at is None else datetime.fromtimestamp(claimed_at - CLOCK_SLACK_SEC, UTC)
        if after_sequence is not None:
            deliver_policy = DeliverPolicy.BY_START_SEQUENCE
        elif since is not None:
            deliver_policy = DeliverPolicy.BY_START_TIME
        else:
            deliver_policy = DeliverPolicy.ALL
        config = ConsumerConfig(
            deliver_policy=deliver_policy,
            opt_start_seq=None if after_sequence is None else after_sequence + 1,
            opt_start_time=since,
            ack_policy=JsAckPolicy.NONE,
            headers_only=True,
            inactive_threshold=self._timeout_sec * 2,
        )
        wanted = event.idempotency_key()
        js = self.connection.jetstream(timeout=self._timeout_sec)
        sub = await js.pull_subscribe(event.subject_name(), stream=STREAM_NAME, config=config)
        try:
            remaining = (await sub.consumer_info()).num_pending or 0
            while remaining > 0:
                batch = await sub.fetch(min(STORED_SCAN_BATCH, remaining), timeout=self._timeout_sec)
                remaining -= len(batch)
                if any((message.headers or {}).get("Nats-Msg-Id") == wanted for message in batch):
                    log.info("terminal event already stored; not publishing it again", msg_id=wanted)
                    return True
        finally:
            await sub.unsubscribe()
        return False

    async def _publish_stored(self, event: Event, body: bytes) -> None:
        await self._broker.publish(
            body, event.subject_name(), headers=self._headers(event), stream=STREAM_NAME, timeout=self._timeout_sec
        )

    def _headers(self, event: Event) -> dict[str, str]:
        headers = cloudevent_headers(event, source=self._source, event_id=uuid.uuid4().hex, at=datetime.now(UTC))
        inject_traceparent(headers)
        return headers
