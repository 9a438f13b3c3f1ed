"""Records what gets published: a service's in-memory broker for handler tests on ``TestNatsBroker``, or an
``EventBus`` stand-in for code that only calls ``publish`` (such as ``ProgressReporter``)."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from faststream.nats import JStream, NatsBroker
from faststream.nats.annotations import NatsMessage

from reelflow.contracts import STREAM_NAME, Event, ProgressUpdate
from reelflow.runtime.bus import EventBus


@dataclass(frozen=True)
class Published:
    subject: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class BusRecorder:
    """Everything the broker carried under ``rf.>``, stored events and core NATS alike."""

    messages: list[Published] = field(default_factory=list)

    def on(self, subject: str) -> list[Published]:
        return [message for message in self.messages if message.subject == subject]

    def subjects(self) -> list[str]:
        return [message.subject for message in self.messages]

    def cleared(self) -> Iterator["BusRecorder"]:
        """A per-test view for a module-scoped recorder: empty before the test and after it."""
        self.messages.clear()
        yield self
        self.messages.clear()


def record_bus(broker: NatsBroker) -> BusRecorder:
    """Subscribe a recorder to ``rf.>`` on ``broker``; call before entering ``TestNatsBroker``.

    A JetStream publish only reaches subscribers declared on the same stream, hence the stream here.
    """
    recorder = BusRecorder()

    @broker.subscriber("rf.>", stream=JStream(STREAM_NAME, declare=False))
    async def record(message: NatsMessage) -> None:
        recorder.messages.append(Published(message.raw_message.subject, dict(message.headers), bytes(message.body)))

    return recorder


class RecordingBus(EventBus):
    """Keeps what would have been published instead of publishing it; only ``publish`` is used."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)

    def progress(self) -> list[int]:
        return [event.progress for event in self.events if isinstance(event, ProgressUpdate)]
