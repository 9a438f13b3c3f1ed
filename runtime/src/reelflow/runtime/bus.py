"""The NATS side of every service: the REELFLOW stream, durable consumer settings, CloudEvents publishing, progress."""

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import nats
import structlog
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsRouter, PullSub
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from reelflow.contracts import STREAM_NAME, STREAM_SUBJECTS, Event, ProgressUpdate, Step, progress_in_step
from reelflow.runtime.telemetry import inject_traceparent

DUPLICATE_WINDOW_SEC = 120.0
STREAM_MAX_AGE_SEC = 7 * 24 * 3600.0
CE_SPEC_VERSION = "1.0"


@dataclass(frozen=True)
class Delivery:
    """How one durable pull consumer receives messages. Declared next to the subscriber that uses it.

    - ``ack_wait_sec``: redelivery after a crash; a running handler sends in-progress acks every third of it.
    - ``max_deliver``: after this many deliveries a retryable failure becomes final (DLQ + failed event).
    - ``backoff_sec``: nack delay before delivery n+1 (the last value repeats).
    - ``handler_timeout_sec``: the step's own deadline; past it the attempt fails with TIMEOUT.
    - ``step``: the step a failure is blamed on when the handler had not reported one yet.
    - ``publish_failure``: publish ``rf.render.failed``/``rf.script.failed`` for a final failure. The ledger
      turns this off: a failure event about a failure event could otherwise loop.
    """

    durable: str
    ack_wait_sec: float = 30.0
    max_deliver: int = 5
    backoff_sec: tuple[float, ...] = (2.0, 10.0, 30.0, 60.0)
    handler_timeout_sec: float = 300.0
    max_workers: int = 1
    publish_failure: bool = True
    step: str | None = None

    def backoff_after(self, delivered: int) -> float:
        index = max(0, min(delivered - 1, len(self.backoff_sec) - 1))
        return self.backoff_sec[index] if self.backoff_sec else 0.0

    def subscriber_options(self) -> dict[str, Any]:
        """Keyword arguments for ``broker.subscriber(subject, **...)``: durable pull consumer, explicit ack."""
        return {
            "durable": self.durable,
            "stream": JStream(STREAM_NAME, declare=False),
            "pull_sub": PullSub(batch_size=1, timeout=5.0),
            "config": ConsumerConfig(
                durable_name=self.durable,
                ack_policy=JsAckPolicy.EXPLICIT,
                ack_wait=self.ack_wait_sec,
                max_deliver=self.max_deliver,
                deliver_policy=DeliverPolicy.ALL,
                max_ack_pending=max(16, self.max_workers * 4),
            ),
            "ack_policy": AckPolicy.MANUAL,
            "max_workers": self.max_workers,
        }


def stream_config() -> StreamConfig:
    return StreamConfig(
        name=STREAM_NAME,
        subjects=list(STREAM_SUBJECTS),
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SEC,
        max_age=STREAM_MAX_AGE_SEC,
    )


async def ensure_stream(nats_url: str, *, timeout_sec: float = 5.0) -> None:
    """Create the REELFLOW stream, or bring an existing one to the expected config."""
    connection = await nats.connect(nats_url, connect_timeout=timeout_sec, max_reconnect_attempts=2)
    try:
        js = connection.jetstream(timeout=timeout_sec)
        config = stream_config()
        try:
            await js.stream_info(STREAM_NAME)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
    finally:
        await connection.close()


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


class EventBus:
    """Publishes contract events: stored ones through JetStream (acked), progress on core NATS."""

    def __init__(self, broker: NatsBroker, *, source: str, timeout_sec: float = 10.0) -> None:
        self._broker = broker
        self._source = f"reelflow/{source}"
        self._timeout_sec = timeout_sec

    async def publish(self, event: Event) -> None:
        headers = cloudevent_headers(event, source=self._source, event_id=uuid.uuid4().hex, at=datetime.now(UTC))
        inject_traceparent(headers)
        body = event.model_dump_json().encode()
        if isinstance(event, ProgressUpdate):
            await self._broker.publish(body, event.subject_name(), headers=headers)
            return
        await self._broker.publish(
            body, event.subject_name(), headers=headers, stream=STREAM_NAME, timeout=self._timeout_sec
        )


class ProgressReporter:
    """Reports one job's progress within a step's band; throttled, and never lower than what it already sent."""

    def __init__(self, bus: EventBus, *, job_id: str, attempt: int, min_interval_sec: float = 0.25) -> None:
        self._bus = bus
        self._job_id = job_id
        self._attempt = attempt
        self._min_interval_sec = min_interval_sec
        self._last_progress = -1
        self._last_sent_at = 0.0

    async def report(self, step: Step, fraction: float, message: str = "") -> None:
        progress = progress_in_step(step, fraction)
        now = time.monotonic()
        finished = fraction >= 1.0
        if progress < self._last_progress:
            return
        if progress == self._last_progress and not finished:
            return
        if not finished and now - self._last_sent_at < self._min_interval_sec:
            return
        self._last_progress, self._last_sent_at = progress, now
        structlog.contextvars.bind_contextvars(step=step.value)
        update = ProgressUpdate(
            job_id=self._job_id,
            attempt=self._attempt,
            step=step,
            progress=progress,
            message=message or step.value.replace("_", " ").lower(),
            at=datetime.now(UTC),
        )
        await self._bus.publish(update)


HandlerT = TypeVar("HandlerT", bound=Callable[..., Awaitable[None]])


def durable_subscriber(router: NatsRouter, subject: str, delivery: Delivery) -> Callable[[HandlerT], HandlerT]:
    """Register a handler on ``subject`` through the durable pull consumer that ``delivery`` describes."""
    subscriber = router.subscriber(subject, **delivery.subscriber_options())

    def register(handler: HandlerT) -> HandlerT:
        subscriber(handler)
        return handler

    return register
