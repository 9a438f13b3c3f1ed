"""Ledger subscribers: every stored event is projected; live progress is relayed and recorded."""

from typing import Annotated, Any

from faststream import Context
from faststream.nats.annotations import NatsMessage

from reelflow.contracts import PROGRESS_SUBJECT_PREFIX, ProgressUpdate, ScriptFailed, ScriptGenerated
from reelflow.gateway.event_projector import EventProjector, parse_stored_event
from reelflow.runtime.bus import Delivery, StepRouter

router = StepRouter()
ProjectorDep = Annotated[EventProjector, Context("projector")]

# The ledger writes small documents; failures are retried and then dead-lettered, never turned into another
# failure event (that could loop), hence publish_failure=False. It projects terminal events, so it must see the
# messages of ended attempts too (the projection itself ignores what is stale). Unreadable messages are the owning
# step's to dead-letter; a request the step rejects still reaches the ledger as its rf.render.failed.
LEDGER_DELIVERY = Delivery(
    durable="ledger",
    ack_wait_sec=15,
    max_deliver=5,
    backoff_sec=(1, 5, 15, 30),
    handler_timeout_sec=30,
    publish_failure=False,
    drop_finished_attempts=False,
    dead_letter_unreadable=False,
)
SCRIPT_LEDGER_DELIVERY = Delivery(
    durable="ledger-scripts",
    ack_wait_sec=15,
    max_deliver=5,
    backoff_sec=(1, 5, 15, 30),
    handler_timeout_sec=30,
    publish_failure=False,
    dead_letter_unreadable=False,
)


@router.step("rf.render.>", LEDGER_DELIVERY)
async def on_render_event(body: dict[str, Any], message: NatsMessage, projector: ProjectorDep) -> None:
    await projector.record_render_event(parse_stored_event(message.raw_message.subject, body))


@router.step("rf.script.>", SCRIPT_LEDGER_DELIVERY)
async def on_script_event(body: dict[str, Any], message: NatsMessage, projector: ProjectorDep) -> None:
    event = parse_stored_event(message.raw_message.subject, body)
    if isinstance(event, ScriptGenerated):
        await projector.record_script_generated(event)
    elif isinstance(event, ScriptFailed):
        await projector.record_script_failed(event)


@router.live(f"{PROGRESS_SUBJECT_PREFIX}.*")
async def on_progress(update: ProgressUpdate, projector: ProjectorDep) -> None:
    """Core NATS, every replica: relay to this replica's listeners and move the stored progress forward."""
    await projector.record_progress(update)
