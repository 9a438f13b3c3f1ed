"""Webhook delivery: what the ledger queues when it records an event, and the background sender in every replica.

The event projector calls ``enqueue_*`` as it records a job's end, a written script or a publication: one delivery
per target is written to MongoDB (``webhook_store``) before the bus message is acked, so a crash before that
redelivers the event and queues it then (the same event is never queued twice). :meth:`WebhookDispatcher.run`
sends what is due: it claims each delivery with a lease, sends it signed (``webhook_signing``) to the address it
checked (``webhook_targets``), with a timeout, records the attempt, and schedules the next one on the Standard
Webhooks schedule (``webhook_schedule``). The clock is injected, so the schedule is tested without sleeping.

The Spring backend's callbacks (``backend_callbacks``) ride the same queue, lease and schedule: a delivery whose
``target`` is ``backend`` goes to the backend's own URL (set by the operator, so not held to the SSRF rules) with
``Authorization: Bearer BACKEND_API_TOKEN`` instead of a signature, within BACKEND_TIMEOUT_SEC.
"""

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog

from reelflow.contracts import Publication, RenderJob, Script
from reelflow.gateway.ownership import VideoRegistry
from reelflow.gateway.stored_times import epoch_now
from reelflow.gateway.webhook_events import (
    CALLBACK_EVENT_TYPES,
    WebhookEvent,
    job_event,
    published_event,
    script_event,
)
from reelflow.gateway.webhook_schedule import (
    STANDARD_RETRY_DELAYS_SEC,
    AttemptOutcome,
    DeliveryState,
    disabled_reason,
    failing_since_after,
    next_attempt_at,
    outcome_of_status,
    state_after,
)
from reelflow.gateway.webhook_signing import USER_AGENT, signed_headers
from reelflow.gateway.webhook_store import BACKEND_TARGET, SubscriptionRecord, WebhookStore
from reelflow.gateway.webhook_targets import Resolver, TargetRefusedError, checked_target, system_resolver

log = structlog.get_logger("reelflow.webhooks")
Document = dict[str, Any]
Clock = Callable[[], float]
# At most this many deliveries are claimed and sent at once by one replica.
DUE_BATCH = 20
# What the delivery log keeps of an answer's body or an error: enough to tell what went wrong.
MAX_ERROR_CHARS = 300
CALLBACK_TARGET = "callback"
LOG_TRIM_INTERVAL_SEC = 3600.0
NO_CALLBACK_SECRET = "REELFLOW_WEBHOOK_SECRET is not set, and callbacks are never sent unsigned"  # noqa: S105


@dataclass(frozen=True)
class DeliveryPolicy:
    """How deliveries are sent (from the gateway's settings)."""

    timeout_sec: float = 10.0
    retry_delays_sec: Sequence[float] = STANDARD_RETRY_DELAYS_SEC
    disable_after_sec: float = 5 * 24 * 3600.0
    lease_sec: float = 60.0
    poll_sec: float = 1.0
    log_retention_sec: float = 30 * 24 * 3600.0
    allow_private_targets: bool = False
    callback_secret: str = ""
    backend_api_token: str = ""
    backend_timeout_sec: float = 10.0


@dataclass(frozen=True)
class AttemptResult:
    outcome: AttemptOutcome
    status_code: int | None = None
    error: str | None = None
    duration_ms: float = 0.0


@dataclass
class PassReport:
    """What one pass of the sender did (for the log and the tests)."""

    attempted: int = 0
    delivered: int = 0
    outcomes: list[AttemptOutcome] = field(default_factory=list)


def delivery_document(
    event: WebhookEvent,
    *,
    workspace_id: str,
    url: str,
    at: float,
    subscription_id: str | None = None,
    job_id: str | None = None,
) -> Document:
    """A new delivery of ``event`` to one target, due at once."""
    return {
        "workspace_id": workspace_id,
        "event_type": event.event_type.value,
        "event_key": event.key,
        "message_id": event.message_id,
        "body": event.body,
        "url": url,
        "subscription_id": subscription_id,
        "callback": subscription_id is None,
        "job_id": job_id,
        "created_at": at,
        "state": DeliveryState.PENDING.value,
        "attempts": [],
        "next_attempt_at": at,
        "lease_until": 0.0,
        "lease_holder": None,
    }


@dataclass(frozen=True)
class BackendCallback:
    """One callback to the Spring backend: its URL, its JSON body, and the key that names it once (one per job
    attempt's end, or per script version)."""

    key: str
    url: str
    body: str
    kind: str  # what it tells: "backend.job.complete" or "backend.script.complete"
    job_id: str | None = None

    @property
    def message_id(self) -> str:
        """Sent as ``Idempotency-Key``: the same for every retry, so the backend can drop a repeat."""
        return "msg_" + hashlib.sha256(self.key.encode()).hexdigest()[:32]


def backend_delivery_document(callback: BackendCallback, *, workspace_id: str, at: float) -> Document:
    """A new delivery of a backend callback, due at once (not in any subscription's or job callback's log)."""
    return {
        "workspace_id": workspace_id,
        "event_type": callback.kind,
        "event_key": callback.key,
        "message_id": callback.message_id,
        "body": callback.body,
        "url": callback.url,
        "subscription_id": None,
        "callback": False,
        "target": BACKEND_TARGET,
        "job_id": callback.job_id,
        "created_at": at,
        "state": DeliveryState.PENDING.value,
        "attempts": [],
        "next_attempt_at": at,
        "lease_until": 0.0,
        "lease_holder": None,
    }


def attempt_changes(delivery: Document, result: AttemptResult, *, at: float, delays: Sequence[float]) -> Document:
    """The delivery's fields after an attempt: the attempt logged, its state, and when the next one is due."""
    number = len(delivery.get("attempts") or []) + 1
    next_at = next_attempt_at(number, at, delays) if result.outcome is AttemptOutcome.RETRY else None
    state = state_after(result.outcome, next_at)
    attempt = {
        "number": number,
        "at": at,
        "status_code": result.status_code,
        "error": result.error,
        "duration_ms": round(result.duration_ms, 1),
        "outcome": result.outcome.value,
    }
    return {
        "attempts": [*(delivery.get("attempts") or []), attempt],
        "state": state.value,
        "next_attempt_at": next_at if state is DeliveryState.PENDING else None,
    }


def subscription_after(
    record: SubscriptionRecord, outcome: AttemptOutcome, *, at: float, disable_after_sec: float
) -> SubscriptionRecord | None:
    """The subscription after one of its deliveries' attempts (failing since when, disabled or not); None: as is."""
    if not record.enabled:
        return None
    failing_since = failing_since_after(record.failing_since, outcome, at)
    reason = disabled_reason(failing_since, outcome, at, disable_after_sec=disable_after_sec)
    if reason is not None:
        return replace(record, enabled=False, disabled_reason=reason, failing_since=failing_since)
    if failing_since == record.failing_since:
        return None
    return replace(record, failing_since=failing_since)


class WebhookDispatcher:
    def __init__(
        self,
        store: WebhookStore,
        registry: VideoRegistry,
        http: httpx.AsyncClient,
        policy: DeliveryPolicy,
        *,
        clock: Clock = epoch_now,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._store = store
        self._registry = registry
        self._http = http
        self._policy = policy
        self._clock = clock
        self._resolver = resolver
        self._holder = uuid.uuid4().hex
        self._wake = asyncio.Event()

    # ---- queueing (called by the event projector) -------------------------------------------------------------
    async def enqueue_job_end(self, job: RenderJob) -> None:
        """``job.completed`` or ``job.failed`` to the workspace's subscriptions and the job's callback_url."""
        event = job_event(job, datetime.now(UTC))
        if event is None or job.video_id is None:
            return
        callback = job.spec.callback_url if job.spec is not None else None
        await self.enqueue(event, video_id=job.video_id, job_id=job.job_id, callback_url=callback)

    async def enqueue_script(self, script: Script) -> None:
        await self.enqueue(script_event(script, datetime.now(UTC)), video_id=script.video_id)

    async def enqueue_publication(self, job: RenderJob, publication: Publication) -> None:
        if job.video_id is not None:
            event = published_event(job, publication, datetime.now(UTC))
            await self.enqueue(event, video_id=job.video_id, job_id=job.job_id)

    async def enqueue(
        self, event: WebhookEvent, *, video_id: str, job_id: str | None = None, callback_url: str | None = None
    ) -> int:
        """Queue ``event`` for every enabled subscription of the video's workspace that wants it, and for the job's
        callback; returns how many deliveries were new."""
        workspace_id = await self._registry.owner_of(video_id)
        now = self._clock()
        queued = 0
        for subscription in await self._store.subscriptions(workspace_id):
            if subscription.enabled and event.event_type in subscription.event_types:
                document = delivery_document(
                    event,
                    workspace_id=workspace_id,
                    url=subscription.url,
                    at=now,
                    subscription_id=subscription.subscription_id,
                    job_id=job_id,
                )
                queued += await self._store.enqueue(f"{event.key}>{subscription.subscription_id}", document)
        if callback_url and event.event_type in CALLBACK_EVENT_TYPES:
            document = delivery_document(event, workspace_id=workspace_id, url=callback_url, at=now, job_id=job_id)
            queued += await self._store.enqueue(f"{event.key}>{CALLBACK_TARGET}", document)
        if queued:
            self.kick()
        return queued

    async def enqueue_backend(self, callback: BackendCallback, *, video_id: str) -> bool:
        """Queue a callback to the Spring backend; False when it was queued already."""
        workspace_id = await self._registry.owner_of(video_id)
        document = backend_delivery_document(callback, workspace_id=workspace_id, at=self._clock())
        queued = await self._store.enqueue(f"{callback.key}>{BACKEND_TARGET}", document)
        if queued:
            self.kick()
        return queued

    # ---- sending ----------------------------------------------------------------------------------------------
    def kick(self) -> None:
        self._wake.set()

    async def deliver_due(self) -> PassReport:
        """One pass: every delivery due now that this replica can claim is attempted once."""
        report = PassReport()
        now = self._clock()
        claimed: list[Document] = []
        for delivery in await self._store.due(now, DUE_BATCH):
            mine = await self._store.claim(delivery, until=now + self._policy.lease_sec, holder=self._holder)
            if mine is not None:  # else another replica has it
                claimed.append(mine)
        # Sent side by side, so one slow or silent receiver holds up no other (each waits its timeout at most).
        for outcome in await asyncio.gather(*(self._attempt(delivery) for delivery in claimed)):
            report.attempted += 1
            report.delivered += outcome is AttemptOutcome.DELIVERED
            report.outcomes.append(outcome)
        return report

    async def _attempt(self, delivery: Document) -> AttemptOutcome:
        if delivery.get("target") == BACKEND_TARGET:
            result = await self._send_to_backend(delivery)
            await self._record(delivery, result, None)
            return result.outcome
        subscription: SubscriptionRecord | None = None
        subscription_id = delivery.get("subscription_id")
        if subscription_id is not None:
            subscription = await self._store.subscription(subscription_id)
            if subscription is None or not subscription.enabled:
                reason = subscription.disabled_reason if subscription else "deleted"
                result = AttemptResult(
                    AttemptOutcome.REFUSED, error=f"not sent: the subscription is disabled ({reason})"
                )
                await self._record(delivery, result, None)
                return result.outcome
        secret = subscription.secret if subscription is not None else self._policy.callback_secret
        result = await self._send(delivery, secret)
        await self._record(delivery, result, subscription)
        return result.outcome

    async def _send(self, delivery: Document, secret: str) -> AttemptResult:
        if not secret:
            return AttemptResult(AttemptOutcome.REFUSED, error=f"not sent: {NO_CALLBACK_SECRET}")
        try:
            target = await checked_target(
                delivery["url"], allow_private=self._policy.allow_private_targets, resolver=self._resolver
            )
        except TargetRefusedError as refused:
            outcome = AttemptOutcome.RETRY if refused.retryable else AttemptOutcome.REFUSED
            return AttemptResult(outcome, error=f"not sent: {refused}")
        headers = {
            **signed_headers(secret, delivery["message_id"], delivery["body"], at=self._clock()),
            **target.headers,
        }
        return await self._post(target.url, delivery["body"], headers, target.extensions, self._policy.timeout_sec)

    async def _send_to_backend(self, delivery: Document) -> AttemptResult:
        token = self._policy.backend_api_token
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "idempotency-key": delivery["message_id"],
            **({"authorization": f"Bearer {token}"} if token else {}),
        }
        return await self._post(delivery["url"], delivery["body"], headers, {}, self._policy.backend_timeout_sec)

    async def _post(
        self, url: str, body: str, headers: dict[str, str], extensions: dict[str, str], timeout_sec: float
    ) -> AttemptResult:
        """One POST with a timeout and no redirects; its answer (or failure) as an attempt's result."""
        started = time.monotonic()
        try:
            response = await self._http.post(
                url,
                content=body.encode(),
                headers=headers,
                extensions=dict(extensions),
                timeout=timeout_sec,
                follow_redirects=False,
            )
        except httpx.HTTPError as failure:
            elapsed = (time.monotonic() - started) * 1000
            return AttemptResult(AttemptOutcome.RETRY, error=_described(failure), duration_ms=elapsed)
        elapsed = (time.monotonic() - started) * 1000
        outcome = outcome_of_status(response.status_code)
        answer = None if outcome is AttemptOutcome.DELIVERED else response.text[:MAX_ERROR_CHARS] or None
        return AttemptResult(outcome, status_code=response.status_code, error=answer, duration_ms=elapsed)

    async def _record(self, delivery: Document, result: AttemptResult, subscription: SubscriptionRecord | None) -> None:
        at = self._clock()
        changes = attempt_changes(delivery, result, at=at, delays=self._policy.retry_delays_sec)
        if not await self._store.settle(delivery, changes):
            log.warning("webhook attempt outlived its lease; another replica took the delivery", id=delivery["_id"])
        log.info(
            "webhook attempt",
            delivery_id=delivery["_id"],
            event_type=delivery["event_type"],
            outcome=result.outcome.value,
            status_code=result.status_code,
            error=result.error,
            state=changes["state"],
        )
        if subscription is not None:
            disable_after = self._policy.disable_after_sec
            changed = await self._store.change_subscription(
                subscription.subscription_id,
                lambda current: subscription_after(current, result.outcome, at=at, disable_after_sec=disable_after),
            )
            if changed is not None and not changed.enabled and subscription.enabled:
                log.warning(
                    "webhook subscription disabled",
                    subscription_id=changed.subscription_id,
                    reason=changed.disabled_reason,
                )

    async def forget_old(self) -> int:
        """Drop settled deliveries older than the log's retention (every replica may; it is idempotent)."""
        return await self._store.forget_settled(self._clock() - self._policy.log_retention_sec)

    async def run(self) -> None:
        """The background sender: after each kick, and every ``poll_sec`` in any case; it never dies. Once an hour
        it also trims the delivery log."""
        next_trim = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._policy.poll_sec)
            self._wake.clear()
            try:
                await self.deliver_due()
                if time.monotonic() >= next_trim:
                    next_trim = time.monotonic() + LOG_TRIM_INTERVAL_SEC
                    await self.forget_old()
            except Exception as error:  # MongoDB unreachable, most likely: the deliveries wait in it
                log.warning("webhooks: delivery pass failed; will try again", error=f"{type(error).__name__}: {error}")


def _described(error: httpx.HTTPError) -> str:
    text = str(error) or "no detail"
    return f"{type(error).__name__}: {text}"[:MAX_ERROR_CHARS]
