"""MongoDB persistence of webhooks: each workspace's subscriptions, and the delivery queue that is also the log.

A delivery is one event for one target (a subscription, or a job's ``callback_url``), written when the ledger
records the event, under an id made of the event's key and the target, so recording an event twice queues it once.
It holds its body, its attempts so far and when the next one is due. A replica that sends it first claims it: a
compare-and-swap on its revision that sets a lease, so no two replicas send it at once; a replica that dies while
sending leaves the lease to run out, and the delivery is due again. Times are epoch seconds (see ``stored_times``)
and every change is a whole-document write.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo import DESCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from reelflow.gateway.store import rewrite_document
from reelflow.gateway.webhook_events import WebhookEventType
from reelflow.gateway.webhook_schedule import DeliveryState

Document = dict[str, Any]
SUBSCRIPTIONS = "webhook_subscriptions"
DELIVERIES = "webhook_deliveries"
BACKEND_TARGET = "backend"  # the target of a callback to the Spring backend


@dataclass(frozen=True)
class SubscriptionRecord:
    subscription_id: str
    workspace_id: str
    url: str
    event_types: tuple[WebhookEventType, ...]
    secret: str
    description: str
    created_at: float
    enabled: bool = True
    disabled_reason: str | None = None
    failing_since: float | None = None

    def document(self) -> Document:
        return {
            "workspace_id": self.workspace_id,
            "url": self.url,
            "event_types": [event_type.value for event_type in self.event_types],
            "secret": self.secret,
            "description": self.description,
            "created_at": self.created_at,
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "failing_since": self.failing_since,
        }


def subscription_record(document: Document) -> SubscriptionRecord:
    return SubscriptionRecord(
        subscription_id=document["_id"],
        workspace_id=document["workspace_id"],
        url=document["url"],
        event_types=tuple(WebhookEventType(name) for name in document.get("event_types") or ()),
        secret=document["secret"],
        description=document.get("description") or "",
        created_at=float(document["created_at"]),
        enabled=bool(document.get("enabled", True)),
        disabled_reason=document.get("disabled_reason"),
        failing_since=document.get("failing_since"),
    )


def _without_ids(document: Document) -> Document:
    return {key: value for key, value in document.items() if key not in ("_id", "rev")}


class WebhookStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        db = client[database]
        self._subscriptions = db[SUBSCRIPTIONS]
        self._deliveries = db[DELIVERIES]

    async def ensure_indexes(self) -> None:
        await self._subscriptions.create_index([("workspace_id", 1)])
        await self._deliveries.create_index([("state", 1), ("next_attempt_at", 1)])
        await self._deliveries.create_index([("subscription_id", 1), ("created_at", DESCENDING)])
        await self._deliveries.create_index([("job_id", 1), ("created_at", DESCENDING)])
        await self._deliveries.create_index([("target", 1), ("created_at", DESCENDING)])

    # ---- subscriptions ----------------------------------------------------------------------------------------
    async def add_subscription(self, record: SubscriptionRecord) -> None:
        await self._subscriptions.insert_one({"_id": record.subscription_id, "rev": 0, **record.document()})

    async def subscription(self, subscription_id: str) -> SubscriptionRecord | None:
        document = await self._subscriptions.find_one({"_id": subscription_id})
        return subscription_record(document) if document else None

    async def subscriptions(self, workspace_id: str) -> list[SubscriptionRecord]:
        cursor = self._subscriptions.find({"workspace_id": workspace_id})
        records = [subscription_record(document) async for document in cursor]
        return sorted(records, key=lambda record: (record.created_at, record.subscription_id))

    async def change_subscription(
        self, subscription_id: str, change: Callable[[SubscriptionRecord], SubscriptionRecord | None]
    ) -> SubscriptionRecord | None:
        """Rewrite a subscription with ``change`` (None: leave it); returns it as it now stands, None when gone."""

        def rewrite(document: Document | None) -> Document | None:
            if document is None:
                return None
            changed = change(subscription_record(document))
            return None if changed is None else changed.document()

        document, _ = await rewrite_document(self._subscriptions, subscription_id, rewrite)
        if document is None:
            return None
        return subscription_record({"_id": subscription_id, **document})

    async def delete_subscription(self, subscription_id: str) -> None:
        """The subscription and its deliveries (its log, and whatever it had still pending)."""
        await self._subscriptions.delete_one({"_id": subscription_id})
        await self._deliveries.delete_many({"subscription_id": subscription_id})

    # ---- deliveries -------------------------------------------------------------------------------------------
    async def enqueue(self, delivery_id: str, delivery: Document) -> bool:
        """Queue a delivery; False when it was queued already (the same event recorded again)."""
        try:
            await self._deliveries.insert_one({"_id": delivery_id, "rev": 0, **delivery})
        except DuplicateKeyError:
            return False
        return True

    async def due(self, now: float, limit: int) -> list[Document]:
        """Pending deliveries whose next attempt is due and that no replica holds a lease on, soonest first."""
        query = {"state": DeliveryState.PENDING.value, "next_attempt_at": {"$lte": now}, "lease_until": {"$lte": now}}
        cursor = self._deliveries.find(query).sort("next_attempt_at", 1).limit(limit)
        return [document async for document in cursor]

    async def claim(self, delivery: Document, *, until: float, holder: str) -> Document | None:
        """``delivery`` leased to ``holder`` until ``until``, or None when another replica changed it first."""
        claimed = {**_without_ids(delivery), "lease_until": until, "lease_holder": holder}
        return await self._replace_if_unchanged(delivery, claimed)

    async def settle(self, claimed: Document, changes: Document) -> bool:
        """Write an attempt's result over the delivery this replica claimed (its lease released); False when the
        lease ran out and another replica took the delivery meanwhile."""
        settled = {**_without_ids(claimed), **changes, "lease_until": 0.0, "lease_holder": None}
        return await self._replace_if_unchanged(claimed, settled) is not None

    async def _replace_if_unchanged(self, current: Document, replacement: Document) -> Document | None:
        revision = int(current.get("rev") or 0)
        written = {"rev": revision + 1, **replacement}
        result = await self._deliveries.replace_one({"_id": current["_id"], "rev": revision}, written)
        return {"_id": current["_id"], **written} if result.matched_count == 1 else None

    async def forget_settled(self, before: float) -> int:
        """Delete delivered and failed deliveries made before ``before`` (the log's retention); returns how many."""
        settled = [DeliveryState.DELIVERED.value, DeliveryState.FAILED.value]
        result = await self._deliveries.delete_many({"state": {"$in": settled}, "created_at": {"$lt": before}})
        return result.deleted_count

    async def backend_deliveries(
        self, workspace_id: str, *, job_id: str | None, state: DeliveryState | None, limit: int
    ) -> list[Document]:
        """The workspace's callbacks to the Spring backend, newest first, of one job and in one state when given."""
        query: Document = {"target": BACKEND_TARGET, "workspace_id": workspace_id}
        if job_id is not None:
            query["job_id"] = job_id
        if state is not None:
            query["state"] = state.value
        cursor = self._deliveries.find(query).sort("created_at", DESCENDING).limit(limit)
        return [document async for document in cursor]

    async def deliveries(
        self, *, subscription_id: str | None = None, job_id: str | None = None, limit: int
    ) -> list[Document]:
        """A subscription's deliveries, or a job's callbacks, newest first."""
        query: Document = (
            {"subscription_id": subscription_id}
            if subscription_id is not None
            else {"job_id": job_id, "callback": True}
        )
        cursor = self._deliveries.find(query).sort("created_at", DESCENDING).limit(limit)
        return [document async for document in cursor]
