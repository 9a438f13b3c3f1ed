"""Script subscribers: a request comes in, a generated script goes out."""

from datetime import UTC, datetime

from faststream.nats import NatsRouter

from reelflow.contracts import ScriptRequested
from reelflow.runtime.bus import Delivery, durable_subscriber
from reelflow.runtime.service import RuntimeDep
from reelflow.script.settings import ScriptSettings
from reelflow.script.writing import write_script

router = NatsRouter()

# Writing is fast and deterministic offline; an LLM call gets its own timeout inside the step.
SCRIPT_DELIVERY = Delivery(
    durable="script",
    ack_wait_sec=30,
    max_deliver=5,
    backoff_sec=(2, 10, 30, 60),
    handler_timeout_sec=120,
    max_workers=2,
)
DELIVERIES = {ScriptRequested.subject: SCRIPT_DELIVERY}


@durable_subscriber(router, ScriptRequested.subject, SCRIPT_DELIVERY)
async def on_script_requested(request: ScriptRequested, runtime: RuntimeDep[ScriptSettings]) -> None:
    await runtime.bus.publish(write_script(request, now=datetime.now(UTC)))
