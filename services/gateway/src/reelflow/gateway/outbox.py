"""The transactional outbox: events the gateway owes the bus, written in the same MongoDB document as the change
that owes them, and published by a relay until JetStream has them.

A request that changes a job or asks for a script writes its document and its pending events in ONE write (a whole
document, compare-and-swap on its revision: the MongoDB-wire server has no multi-document transactions), then
answers. Whether NATS is up at that moment does not matter: the relay publishes each pending event with its
``Nats-Msg-Id`` (so a repeat is dropped by JetStream) and removes it from the document once it is stored. An answer
that is an error therefore means nothing happened, and an accepted request always takes effect.

Terminal events keep their own rule on top: publishing one claims its job attempt first (``runtime.attempts``), so
an owed cancel that lost to a completion is dropped here, never published.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import structlog
from nats.js.errors import APIError
from pydantic import BaseModel

from reelflow.contracts import ALL_EVENTS, Event
from reelflow.runtime.bus import EventBus
from reelflow.runtime.failures import AttemptFinishedError, BusUnavailableError

log = structlog.get_logger("reelflow.outbox")

EVENT_TYPES: dict[str, type[Event]] = {event.event_type: event for event in ALL_EVENTS}
# The background relay looks for owed events this often even without a kick (a kick from another replica's write
# never reaches this one, and events owed during an outage are found again this way).
RELAY_IDLE_SEC = 2.0
# How long a request waits for its own events to reach JetStream before it answers anyway.
RELAY_NOW_TIMEOUT_SEC = 2.0
# How many owing documents one pass of the relay reads at a time.
OWING_BATCH = 100
# JetStream's answer to a publish whose Nats-Msg-Id another publish is storing at that moment: a request's own
# publish and the relay it kicked (or another gateway replica) racing for the same event. The other one stores it.
JS_DUPLICATE_IN_PROCESS = 10158


def stored_by_another_publish(error: Exception) -> bool:
    """Whether ``error`` is JetStream saying another publish of the same event is being stored right now."""
    return isinstance(error, APIError) and error.err_code == JS_DUPLICATE_IN_PROCESS


class OwedEvent(BaseModel):
    """One pending event as it is kept in a document's ``outbox`` list."""

    key: str  # its Nats-Msg-Id, unique per event
    event_type: str
    body: str
    owed_at: datetime

    @classmethod
    def of(cls, event: Event, *, at: datetime) -> "OwedEvent":
        return cls(key=event.idempotency_key(), event_type=event.event_type, body=event.model_dump_json(), owed_at=at)

    def event(self) -> Event:
        return EVENT_TYPES[self.event_type].model_validate_json(self.body)


def with_owed(outbox: Sequence[Mapping[str, Any]], events: Iterable[Event], *, at: datetime) -> list[dict[str, Any]]:
    """``outbox`` with ``events`` appended, in order; an event already owed (same key) is not owed twice."""
    entries = [dict(entry) for entry in outbox]
    keys = {entry.get("key") for entry in entries}
    for event in events:
        if event.idempotency_key() not in keys:
            entries.append(OwedEvent.of(event, at=at).model_dump(mode="python"))
            keys.add(event.idempotency_key())
    return entries


def without_settled(outbox: Sequence[Mapping[str, Any]], keys: Iterable[str]) -> list[dict[str, Any]]:
    """``outbox`` without the entries whose keys JetStream now has."""
    settled = set(keys)
    return [dict(entry) for entry in outbox if entry.get("key") not in settled]


def owed_events(outbox: Sequence[Mapping[str, Any]]) -> list[OwedEvent]:
    return [OwedEvent.model_validate(entry) for entry in outbox]


class OutboxStore(Protocol):
    def owing(self, limit: int) -> AsyncIterator[tuple[str, str, list[OwedEvent]]]:
        """(collection, document id, pending events) of documents that owe events."""
        ...

    async def owed_by(self, collection: str, document_id: str) -> list[OwedEvent]:
        """The pending events of one document (none when it owes nothing or does not exist)."""
        ...

    async def settle(self, collection: str, document_id: str, keys: Sequence[str]) -> None:
        """Remove the events with these keys from the document's outbox."""
        ...


class OutboxRelay:
    """Publishes owed events until JetStream has them; one runs in every gateway replica (publishing twice is
    harmless: JetStream drops a repeated ``Nats-Msg-Id``, and a terminal event is published once per attempt)."""

    def __init__(self, store: OutboxStore, bus: EventBus, *, idle_sec: float = RELAY_IDLE_SEC) -> None:
        self._store = store
        self._bus = bus
        self._idle_sec = idle_sec
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Relay at once instead of at the next idle tick (called after a write that owes events)."""
        self._wake.set()

    async def relay_now(self, collection: str, document_id: str, timeout_sec: float = RELAY_NOW_TIMEOUT_SEC) -> None:
        """Publish what one document owes, in the request's own time, giving up quietly after ``timeout_sec``.

        Nothing depends on it succeeding: what it could not publish, the background relay will (it is kicked).
        """
        self.kick()
        try:
            await asyncio.wait_for(self.relay_document(collection, document_id), timeout_sec)
        except (TimeoutError, BusUnavailableError):
            return
        except Exception as error:  # the request was accepted already; the background relay tries again
            if not stored_by_another_publish(error):
                log.warning(
                    "outbox: publishing at once failed; the relay will", error=f"{type(error).__name__}: {error}"
                )

    async def relay_document(self, collection: str, document_id: str) -> int:
        """Publish one document's owed events in order; returns how many were settled."""
        return await self._relay(collection, document_id, await self._store.owed_by(collection, document_id))

    async def relay_once(self) -> int:
        """One pass over every owing document; returns how many events were settled.

        Raises :class:`BusUnavailableError` as soon as NATS turns out to be unreachable. A document whose event
        cannot be published for another reason is logged and left for the next pass; it holds up no other.
        """
        settled = 0
        pending = [owing async for owing in self._store.owing(OWING_BATCH)]
        for collection, document_id, events in pending:
            try:
                settled += await self._relay(collection, document_id, events)
            except BusUnavailableError:
                raise
            except Exception as error:
                if stored_by_another_publish(error):
                    log.info(
                        "outbox: an owed event is being stored by another publish; the next pass settles it",
                        collection=collection,
                        document_id=document_id,
                    )
                    continue
                log.error(
                    "outbox: an owed event could not be published; will try again",
                    collection=collection,
                    document_id=document_id,
                    error=f"{type(error).__name__}: {error}",
                )
        return settled

    async def _relay(self, collection: str, document_id: str, events: Sequence[OwedEvent]) -> int:
        done: list[str] = []
        try:
            for owed_event in events:
                await self._publish(owed_event)
                done.append(owed_event.key)
        finally:
            if done:
                await self._store.settle(collection, document_id, done)
        return len(done)

    async def _publish(self, owed_event: OwedEvent) -> None:
        try:
            await self._bus.publish(owed_event.event())
        except AttemptFinishedError as finished:
            # The attempt ended some other way first (a cancel that lost to completion): the event is moot.
            log.info(
                "outbox: owed event dropped, its attempt already ended", key=owed_event.key, reason=finished.message
            )

    async def run(self) -> None:
        """The background relay: after each kick, and every ``idle_sec`` in any case."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_sec)
            self._wake.clear()
            try:
                settled = await self.relay_once()
            except BusUnavailableError:
                continue  # NATS is down: the events stay owed, and the next tick tries again
            except Exception as error:  # MongoDB unreachable, most likely: keep going, never die
                log.warning("outbox: relay pass failed; will try again", error=f"{type(error).__name__}: {error}")
                continue
            if settled:
                log.info("outbox: owed events published", settled=settled)
