"""Prometheus metrics of a service process: what each step did with its messages, and how far behind it is.

Every step message passes the delivery middleware, and that is where the step metrics are recorded, once for all
services. The label ``step`` is the durable consumer that ran the step (``tts``, ``compose``, ``ledger`` …), the
same name the consumer-lag gauges use, so a dashboard can put a step's work and its backlog side by side.

Metrics live in prometheus-client's process-wide registry. A worker serves them at ``GET /metrics`` on its health
port and the gateway on its HTTP port; consumer lag is read from JetStream when they are scraped.
"""

import asyncio
import contextlib
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import prometheus_client
from faststream.message import StreamMessage
from nats.aio.client import Client as NatsClient
from nats.js.api import ConsumerInfo
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from reelflow.contracts import STREAM_NAME, LessonSpec, RankingSpec

# A step runs from milliseconds (the ledger) to most of an hour (a long animated compose).
STEP_DURATION_BUCKETS_SEC = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)
# A scrape must not hang on a NATS outage; past this the lag gauges are left out of the answer.
LAG_SAMPLE_TIMEOUT_SEC = 2.0
TEMPLATES = frozenset(str(spec.model_fields["template"].default) for spec in (LessonSpec, RankingSpec))
# Template labels of messages that carry no render spec.
SCRIPT_TEMPLATE = "script"
NO_TEMPLATE = "none"

STEP_DURATION = Histogram(
    "reelflow_step_duration_seconds",
    "Time a step spent on one message, from delivery to ack/nak/term; outcome is what happened to the message.",
    ["step", "template", "outcome"],
    buckets=STEP_DURATION_BUCKETS_SEC,
)
STEP_FAILURES = Counter(
    "reelflow_step_failures_total",
    "Failed deliveries of a step, by contract error code (retried or given up).",
    ["step", "code"],
)
MESSAGES_IN_FLIGHT = Gauge(
    "reelflow_messages_in_flight",
    "Messages this process is working on right now.",
    ["step"],
)
REDELIVERIES = Counter(
    "reelflow_redeliveries_total",
    "Messages that arrived for a second or later time (a nak, a crashed or slow replica, an ack_wait expiry).",
    ["step"],
)
DEAD_LETTERS = Counter(
    "reelflow_dead_letters_total",
    "Messages given up on and published to rf.dlq.<service>, by contract error code.",
    ["step", "code"],
)
CONSUMER_PENDING = Gauge(
    "reelflow_consumer_pending_messages",
    "Messages on the stream that the step's durable consumer has not delivered yet (JetStream num_pending).",
    ["step"],
)
CONSUMER_ACK_PENDING = Gauge(
    "reelflow_consumer_ack_pending_messages",
    "Messages delivered to the step's replicas and not acknowledged yet (JetStream num_ack_pending).",
    ["step"],
)


def template_of(body: dict[str, Any]) -> str:
    """The render template a message is about: ``lesson``, ``ranking``, ``script`` or ``none`` (bounded labels)."""
    spec = body.get("spec")
    if isinstance(spec, dict):
        template = spec.get("template")
        return template if isinstance(template, str) and template in TEMPLATES else NO_TEMPLATE
    if "script_id" in body or isinstance(body.get("script"), dict):
        return SCRIPT_TEMPLATE
    return NO_TEMPLATE


@dataclass
class StepMeasurement:
    """One message through one step; the template is filled in once the body has been read."""

    step: str
    message: StreamMessage[Any]
    template: str = NO_TEMPLATE
    started_at: float = field(default_factory=time.perf_counter)

    @property
    def outcome(self) -> str:
        """What the step did with the message: ``acked``, ``nacked``, ``rejected`` (terminated) or ``unsettled``."""
        committed = self.message.committed
        return committed.value.lower() if committed is not None else "unsettled"


@contextmanager
def measure_step(step: str, message: StreamMessage[Any], delivered: int) -> Iterator[StepMeasurement]:
    """Count the message in flight (and as a redelivery), then record its duration by outcome when it is settled."""
    measurement = StepMeasurement(step, message)
    if delivered > 1:
        REDELIVERIES.labels(step).inc()
    in_flight = MESSAGES_IN_FLIGHT.labels(step)
    in_flight.inc()
    try:
        yield measurement
    finally:
        in_flight.dec()
        STEP_DURATION.labels(step, measurement.template, measurement.outcome).observe(
            time.perf_counter() - measurement.started_at
        )


def count_failure(step: str, code: str) -> None:
    STEP_FAILURES.labels(step, code).inc()


def count_dead_letter(step: str, code: str) -> None:
    DEAD_LETTERS.labels(step, code).inc()


async def _consumer_info(connection: NatsClient | None, step: str) -> ConsumerInfo | None:
    if connection is None or not connection.is_connected:
        return None
    try:
        js = connection.jetstream(timeout=LAG_SAMPLE_TIMEOUT_SEC)
        return await asyncio.wait_for(js.consumer_info(STREAM_NAME, step), LAG_SAMPLE_TIMEOUT_SEC)
    except Exception:  # any failure only means "no sample this time"
        return None


async def sample_consumer_lag(connection: NatsClient | None, steps: Iterable[str]) -> None:
    """Read each durable consumer's backlog from JetStream into the lag gauges (all at once, within 2 s).

    A consumer that cannot be read (NATS down, consumer gone) drops out of the gauges instead of showing a stale
    number: a missing series is what an ``absent()`` alert or a gap in a graph should see.
    """
    steps = list(steps)
    infos = await asyncio.gather(*(_consumer_info(connection, step) for step in steps))
    for step, info in zip(steps, infos, strict=True):
        if info is None:
            for gauge in (CONSUMER_PENDING, CONSUMER_ACK_PENDING):
                with contextlib.suppress(KeyError):
                    gauge.remove(step)
            continue
        CONSUMER_PENDING.labels(step).set(info.num_pending or 0)
        CONSUMER_ACK_PENDING.labels(step).set(info.num_ack_pending or 0)


async def exposition(
    connection: NatsClient | None,
    steps: Iterable[str],
    registry: CollectorRegistry = prometheus_client.REGISTRY,
) -> tuple[bytes, str]:
    """The body and content type of ``GET /metrics``, with the consumer lag sampled just now."""
    await sample_consumer_lag(connection, steps)
    return prometheus_client.generate_latest(registry), prometheus_client.CONTENT_TYPE_LATEST
