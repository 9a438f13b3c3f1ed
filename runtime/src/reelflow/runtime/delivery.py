"""The explicit ack policy of every step: ack on success, nack with backoff, or give up to the DLQ with a code.

Before a handler runs, the message is read once: an unreadable body is poison (dead-lettered at once, never
retried), and a message of a job attempt that already ended is acked and dropped. While it runs, in-progress acks
keep it from being redelivered and the attempt is re-checked, so a cancel that this replica missed on core NATS
still stops its work.
"""

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pydantic
import structlog
from fast_depends.exceptions import ValidationError as DependencyValidationError
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from faststream.nats.message import NatsMessage
from opentelemetry import trace

from reelflow.contracts import ErrorCode, ErrorInfo
from reelflow.runtime.bus import Delivery, EventBus, handling_redelivery
from reelflow.runtime.cancellation import CancellationRegistry, CancelToken
from reelflow.runtime.dead_letters import (
    MessageIds,
    dead_letter_for,
    describe_validation_error,
    failure_event_for,
    message_ids,
)
from reelflow.runtime.failures import AttemptFinishedError, JobCanceledError, ReelflowError
from reelflow.runtime.liveness import WorkerHealth
from reelflow.runtime.metrics import count_dead_letter, count_failure, measure_step, template_of
from reelflow.runtime.telemetry import context_from_headers, tracer

log = structlog.get_logger("reelflow.delivery")

# Requests carry user input, so an unreadable one is the user's script/spec; anything else is our bug.
_USER_INPUT_SUBJECTS = ("rf.script.requested", "rf.render.requested")
NACK_ON_SHUTDOWN_TIMEOUT_SEC = 2.0


class PoisonMessageError(ReelflowError):
    """The message cannot be read at all (not JSON, not an object): no redelivery can help."""


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard match: ``*`` one token, ``>`` the rest."""
    pattern_tokens, subject_tokens = pattern.split("."), subject.split(".")
    for index, part in enumerate(pattern_tokens):
        if part == ">":
            return len(subject_tokens) > index
        if index >= len(subject_tokens) or part not in ("*", subject_tokens[index]):
            return False
    return len(pattern_tokens) == len(subject_tokens)


def _delivered_count(message: NatsMessage) -> int:
    try:
        return int(message.raw_message.metadata.num_delivered)
    except Exception:  # core NATS or an in-memory test message has no JetStream metadata
        return 1


def _stream_place(message: NatsMessage) -> tuple[int, float] | None:
    """The message's stream sequence and when the stream stored it (epoch seconds)."""
    try:
        metadata = message.raw_message.metadata
        return int(metadata.sequence.stream), metadata.timestamp.timestamp()
    except Exception:  # core NATS or an in-memory test message has no JetStream metadata
        return None


def read_body(subject: str, payload: bytes) -> dict[str, Any]:
    """The message body as a JSON object, or :class:`PoisonMessageError` saying why it is unreadable."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PoisonMessageError(f"message on {subject} is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise PoisonMessageError(f"message on {subject} is not a JSON object (got {type(body).__name__})")
    return body


def classify_failure(subject: str, error: BaseException) -> tuple[ErrorInfo, bool]:
    """Map any exception from a handler to (contract error, retryable)."""
    if isinstance(error, DependencyValidationError) and isinstance(error.original_error, pydantic.ValidationError):
        error = error.original_error
    user_input_code = ErrorCode.INVALID_SCRIPT if subject in _USER_INPUT_SUBJECTS else ErrorCode.INTERNAL
    if isinstance(error, pydantic.ValidationError):
        message = f"message on {subject} is invalid: {describe_validation_error(error)}"
        return ErrorInfo(code=user_input_code, message=message), False
    if isinstance(error, PoisonMessageError):
        return ErrorInfo(code=user_input_code, message=error.message), False
    if isinstance(error, ReelflowError):
        return error.to_info(), error.retryable
    if isinstance(error, TimeoutError):
        return ErrorInfo(code=ErrorCode.TIMEOUT, message=f"step timed out on {subject}"), True
    return ErrorInfo(code=ErrorCode.INTERNAL, message=f"{type(error).__name__}: {error}"), True


def step_delivery_middleware(
    service: str,
    deliveries: Mapping[str, Delivery],
    bus: EventBus,
    cancellations: CancellationRegistry,
    health: WorkerHealth,
) -> type[BaseMiddleware]:
    """A broker middleware applying each subscription's :class:`Delivery` (keyed by subject pattern)."""

    class StepDeliveryMiddleware(BaseMiddleware):
        async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]) -> Any:
            subject = str(getattr(msg.raw_message, "subject", ""))
            delivery = next((d for pattern, d in deliveries.items() if subject_matches(pattern, subject)), None)
            if delivery is None or not isinstance(msg, NatsMessage):
                return await call_next(msg)
            delivered = _delivered_count(msg)
            parent = context_from_headers(msg.headers)
            with (
                tracer().start_as_current_span(f"{service} {subject}", context=parent) as span,
                structlog.contextvars.bound_contextvars(subject=subject, delivered=delivered),
                health.handling(delivery.durable),
                measure_step(delivery.durable, msg, delivered) as measurement,
            ):
                payload = bytes(msg.body)
                try:
                    body = read_body(subject, payload)
                    measurement.template = template_of(body)
                    ids = message_ids(body, msg.headers)
                except PoisonMessageError as poison:
                    ids = message_ids({}, msg.headers)
                    await _settle_failure(service, delivery, bus, msg, subject, delivered, poison, ids)
                    return None
                if ids.job_id:
                    structlog.contextvars.bind_contextvars(job_id=ids.job_id, attempt=ids.attempt)
                    span.set_attribute("reelflow.job_id", ids.job_id)
                attempt = (ids.job_id, ids.attempt) if ids.job_id and ids.attempt else None
                if attempt and delivery.drop_finished_attempts and bus.attempts is not None:
                    finished = await bus.attempts.finished(*attempt)
                    if finished is not None:
                        log.info("message dropped: its job attempt already ended", status=finished)
                        await msg.ack()
                        return None
                with contextlib.ExitStack() as running:
                    token = running.enter_context(cancellations.running(*attempt)) if attempt else None
                    if delivered > 1 and (place := _stream_place(msg)) is not None:
                        running.enter_context(handling_redelivery(*place))
                    heartbeat = asyncio.ensure_future(
                        _keep_alive(msg, delivery, bus, attempt if delivery.drop_finished_attempts else None, token)
                    )
                    try:
                        async with asyncio.timeout(delivery.handler_timeout_sec):
                            result = await call_next(msg)
                    except (JobCanceledError, AttemptFinishedError) as stop:
                        log.info("message dropped: job attempt canceled or finished", reason=stop.message)
                        await msg.ack()
                        return None
                    except asyncio.CancelledError:
                        # The process is stopping and its grace ran out: hand the message back at once.
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(msg.nack(), NACK_ON_SHUTDOWN_TIMEOUT_SEC)
                        raise
                    except Exception as exc:  # every failure is classified; nothing is swallowed silently
                        span.set_status(trace.Status(trace.StatusCode.ERROR, str(exc)))
                        await _settle_failure(service, delivery, bus, msg, subject, delivered, exc, ids)
                        return None
                    finally:
                        heartbeat.cancel()
                await msg.ack()
                return result

    return StepDeliveryMiddleware


def _is_unreadable(error: BaseException) -> bool:
    if isinstance(error, DependencyValidationError):
        error = error.original_error or error
    return isinstance(error, PoisonMessageError | pydantic.ValidationError)


async def _keep_alive(
    msg: NatsMessage,
    delivery: Delivery,
    bus: EventBus,
    attempt: tuple[str, int] | None,
    token: CancelToken | None,
) -> None:
    """In-progress acks every third of ``ack_wait``; stop the work when its attempt ended elsewhere."""
    while True:
        await asyncio.sleep(delivery.ack_wait_sec / 3)
        with contextlib.suppress(Exception):
            await msg.in_progress()
        if attempt is None or token is None or bus.attempts is None:
            continue
        with contextlib.suppress(Exception):
            finished = await bus.attempts.finished(*attempt)
            if finished is not None:
                token.cancel(f"the job attempt already ended {finished}")


async def _settle_failure(
    service: str,
    delivery: Delivery,
    bus: EventBus,
    msg: NatsMessage,
    subject: str,
    delivered: int,
    exc: BaseException,
    ids: MessageIds,
) -> None:
    error, retryable = classify_failure(subject, exc)
    if not delivery.dead_letter_unreadable and _is_unreadable(exc):
        log.warning("unreadable message ignored; the step that owns it dead-letters it", error=error.message)
        await msg.ack()
        return
    count_failure(delivery.durable, error.code)
    if error.step is None:
        step = structlog.contextvars.get_contextvars().get("step") or delivery.step
        error = error.model_copy(update={"step": step})
    if retryable and delivered < delivery.max_deliver:
        delay = delivery.backoff_after(delivered)
        log.warning("step failed, will retry", error=error.message, code=error.code, retry_in_sec=delay)
        await msg.nack(delay=delay)
        return
    if retryable:
        error = error.model_copy(update={"message": f"{error.message} (gave up after {delivered} deliveries)"})
    log.error("step failed for good", error=error.message, code=error.code, exc_info=exc)
    payload = bytes(msg.body)
    dead_letter = dead_letter_for(
        service=service,
        subject=subject,
        payload=payload,
        msg_id=msg.headers.get("Nats-Msg-Id"),
        delivered=delivered,
        error=error,
        at=datetime.now(UTC),
    )
    try:
        await bus.publish(dead_letter)
        failure = failure_event_for(subject, ids, error) if delivery.publish_failure else None
        if failure is not None:
            with contextlib.suppress(AttemptFinishedError):  # the attempt already ended: say nothing more
                await bus.publish(failure)
    except Exception as publish_error:
        # Could not record the failure: leave the message to be redelivered rather than lose it.
        log.error("could not publish the failure; message will be redelivered", error=str(publish_error))
        await msg.nack(delay=delivery.backoff_after(delivered))
        return
    count_dead_letter(delivery.durable, error.code)
    await msg.reject()
