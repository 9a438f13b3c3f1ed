"""Ledger subscribers: every stored event is projected; live progress is relayed and recorded."""

from typing import Annotated, Any

from faststream import Context
from faststream.nats.annotations import NatsMessage

from reelflow.contracts import PROGRESS_SUBJECT_PREFIX, ProgressUpdate, ScriptFailed, ScriptGenerated
from reelflow.gateway.ledger import Ledger, parse_stored_event
from reelflow.runtime.bus import Delivery, StepRouter

router = StepRouter()
LedgerDep = Annotated[Ledger, Context("ledger")]

# The ledger writes small documents; failures are retried and then dead-lettered, never turned into another
# failure event (that could loop), hence publish_failure=False. It projects terminal events, so it must see the
# messages of ended attempts too (the projection itself ignores what is stale).
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
async def on_render_event(body: dict[str, Any], message: NatsMessage, ledger: LedgerDep) -> None:
    await ledger.record_render_event(parse_stored_event(message.raw_message.subject, body))


@router.step("rf.script.>", SCRIPT_LEDGER_DELIVERY)
async def on_script_event(body: dict[str, Any], message: NatsMessage, ledger: LedgerDep) -> None:
    event = parse_stored_event(message.raw_message.subject, body)
    if isinstance(event, ScriptGenerated):
        await ledger.record_script_generated(event)
    elif isinstance(event, ScriptFailed):
        await ledger.record_script_failed(event)


@router.live(f"{PROGRESS_SUBJECT_PREFIX}.*")
async def on_progress(update: ProgressUpdate, ledger: LedgerDep) -> None:
    """Core NATS, every replica: relay to this replica's listeners and move the stored progress forward."""
    await ledger.record_progress(update)
