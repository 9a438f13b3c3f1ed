"""What a workspace does with webhooks through the API: subscribe a URL to event types (its secret shown once),
list, enable or disable, delete, and read the delivery log of a subscription or of a job's callbacks.

A subscription belongs to its workspace: any other caller is answered exactly as if it did not exist (404).
"""

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from reelflow.contracts._base import Contract
from reelflow.contracts.specs import HttpUrlText
from reelflow.gateway.accounts import Caller
from reelflow.gateway.refusals import InvalidRequestError, NotFoundError
from reelflow.gateway.request_bodies import RequestBody
from reelflow.gateway.stored_times import epoch_now, required_time_of, time_of
from reelflow.gateway.webhook_events import WebhookEventType
from reelflow.gateway.webhook_schedule import DeliveryState
from reelflow.gateway.webhook_signing import new_webhook_secret
from reelflow.gateway.webhook_store import SubscriptionRecord, WebhookStore
from reelflow.gateway.webhook_targets import target_problems

Document = dict[str, Any]
SUBSCRIPTION_ID_PATTERN = r"^wh_[0-9a-f]{24}$"
MAX_SUBSCRIPTIONS = 50


class NewSubscription(RequestBody):
    """Body of ``POST /api/webhooks``."""

    url: HttpUrlText = Field(description="Where the events are POSTed: a public http(s) URL.")
    event_types: list[WebhookEventType] = Field(
        min_length=1, max_length=4, description="script.completed, job.completed, job.failed, video.published."
    )
    description: str = Field(default="", max_length=200)

    @field_validator("event_types")
    @classmethod
    def _distinct(cls, event_types: list[WebhookEventType]) -> list[WebhookEventType]:
        return sorted(set(event_types))


class SubscriptionChange(RequestBody):
    """Body of ``PATCH /api/webhooks/{subscription_id}``."""

    enabled: bool = Field(description="false stops deliveries; true resumes them (and clears disabled_reason).")


class SubscriptionView(Contract):
    subscription_id: str
    url: str
    event_types: list[WebhookEventType]
    description: str
    enabled: bool
    disabled_reason: str | None = Field(description="Why it was disabled (by a person, a 410, or N days failing).")
    created_at: datetime


class SubscriptionCreated(SubscriptionView):
    secret: str = Field(
        description="The Standard Webhooks signing secret (`whsec_…`), shown this once: verify each delivery's "
        "`webhook-signature` with it (e.g. `standardwebhooks.Webhook(secret).verify(body, headers)`)."
    )


class AttemptView(Contract):
    number: int = Field(description="1 for the first attempt.")
    at: datetime
    status_code: int | None = Field(description="The receiver's answer; null when none came (see error).")
    error: str | None = Field(
        description="A network error, a timeout, a refused target, or the start of a non-2xx body."
    )
    duration_ms: float


class DeliveryView(Contract):
    delivery_id: str
    event_type: WebhookEventType
    message_id: str = Field(description="The `webhook-id` header: the same on every retry.")
    url: str
    job_id: str | None
    state: DeliveryState = Field(description="pending (another attempt is due), delivered or failed.")
    attempts: list[AttemptView]
    next_attempt_at: datetime | None = Field(description="When the next attempt is due, while pending.")
    created_at: datetime


def subscription_view(record: SubscriptionRecord) -> SubscriptionView:
    return SubscriptionView(
        subscription_id=record.subscription_id,
        url=record.url,
        event_types=list(record.event_types),
        description=record.description,
        enabled=record.enabled,
        disabled_reason=record.disabled_reason,
        created_at=required_time_of(record.created_at),
    )


class BackendCallbackView(Contract):
    delivery_id: str
    kind: Literal["backend.job.complete", "backend.script.complete"] = Field(
        description="`backend.job.complete`: POST {BACKEND_BASE_URL}/video/job/{job_id}/complete. "
        "`backend.script.complete`: POST {BACKEND_BASE_URL}/video/script/complete."
    )
    idempotency_key: str = Field(description="The `Idempotency-Key` header: the same on every retry.")
    url: str
    job_id: str | None
    state: DeliveryState = Field(description="pending (another attempt is due), delivered or failed.")
    attempts: list[AttemptView]
    next_attempt_at: datetime | None = Field(description="When the next attempt is due, while pending.")
    created_at: datetime


def attempt_views(document: Document) -> list[AttemptView]:
    return [
        AttemptView(
            number=attempt["number"],
            at=required_time_of(attempt["at"]),
            status_code=attempt.get("status_code"),
            error=attempt.get("error"),
            duration_ms=float(attempt.get("duration_ms") or 0.0),
        )
        for attempt in document.get("attempts") or []
    ]


def delivery_view(document: Document) -> DeliveryView:
    return DeliveryView(
        delivery_id=document["_id"],
        event_type=WebhookEventType(document["event_type"]),
        message_id=document["message_id"],
        url=document["url"],
        job_id=document.get("job_id"),
        state=DeliveryState(document["state"]),
        attempts=attempt_views(document),
        next_attempt_at=time_of(document.get("next_attempt_at")),
        created_at=required_time_of(document["created_at"]),
    )


def backend_callback_view(document: Document) -> BackendCallbackView:
    return BackendCallbackView(
        delivery_id=document["_id"],
        kind=document["event_type"],
        idempotency_key=document["message_id"],
        url=document["url"],
        job_id=document.get("job_id"),
        state=DeliveryState(document["state"]),
        attempts=attempt_views(document),
        next_attempt_at=time_of(document.get("next_attempt_at")),
        created_at=required_time_of(document["created_at"]),
    )


class WebhookSubscriptions:
    def __init__(self, store: WebhookStore, *, allow_private_targets: bool) -> None:
        self._store = store
        self._allow_private = allow_private_targets

    async def create(self, caller: Caller, body: NewSubscription) -> SubscriptionCreated:
        problems = target_problems("url", body.url, allow_private=self._allow_private)
        if problems:
            raise InvalidRequestError.of(problems)
        if len(await self._store.subscriptions(caller.workspace_id)) >= MAX_SUBSCRIPTIONS:
            raise InvalidRequestError.of(
                [{"field": "url", "problem": f"a workspace has at most {MAX_SUBSCRIPTIONS} subscriptions"}]
            )
        record = SubscriptionRecord(
            subscription_id=f"wh_{secrets.token_hex(12)}",
            workspace_id=caller.workspace_id,
            url=body.url,
            event_types=tuple(body.event_types),
            secret=new_webhook_secret(),
            description=body.description,
            created_at=epoch_now(),
        )
        await self._store.add_subscription(record)
        return SubscriptionCreated(**subscription_view(record).model_dump(), secret=record.secret)

    async def of_workspace(self, caller: Caller) -> list[SubscriptionView]:
        return [subscription_view(record) for record in await self._store.subscriptions(caller.workspace_id)]

    async def get(self, caller: Caller, subscription_id: str) -> SubscriptionView:
        return subscription_view(await self._owned(caller, subscription_id))

    async def change(self, caller: Caller, subscription_id: str, change: SubscriptionChange) -> SubscriptionView:
        await self._owned(caller, subscription_id)

        def switched(record: SubscriptionRecord) -> SubscriptionRecord | None:
            if record.enabled == change.enabled:
                return None
            if change.enabled:
                return replace(record, enabled=True, disabled_reason=None, failing_since=None)
            return replace(record, enabled=False, disabled_reason="disabled through the API")

        changed = await self._store.change_subscription(subscription_id, switched)
        if changed is None:
            raise NotFoundError(f"no webhook subscription {subscription_id}")
        return subscription_view(changed)

    async def delete(self, caller: Caller, subscription_id: str) -> None:
        await self._owned(caller, subscription_id)
        await self._store.delete_subscription(subscription_id)

    async def deliveries(self, caller: Caller, subscription_id: str, limit: int) -> list[DeliveryView]:
        await self._owned(caller, subscription_id)
        documents = await self._store.deliveries(subscription_id=subscription_id, limit=limit)
        return [delivery_view(document) for document in documents]

    async def callbacks(self, job_id: str, limit: int) -> list[DeliveryView]:
        """A job's callback deliveries (the caller's access to the job is checked before)."""
        return [delivery_view(document) for document in await self._store.deliveries(job_id=job_id, limit=limit)]

    async def backend_callbacks(
        self, caller: Caller, *, job_id: str | None, state: DeliveryState | None, limit: int
    ) -> list[BackendCallbackView]:
        """The gateway's callbacks to the Spring backend, newest first (only the backend's token reads them)."""
        documents = await self._store.backend_deliveries(caller.workspace_id, job_id=job_id, state=state, limit=limit)
        return [backend_callback_view(document) for document in documents]

    async def _owned(self, caller: Caller, subscription_id: str) -> SubscriptionRecord:
        record = await self._store.subscription(subscription_id)
        if record is None or record.workspace_id != caller.workspace_id:
            raise NotFoundError(f"no webhook subscription {subscription_id}")
        return record
