"""Script subscribers: a request comes in, a generated script goes out. The writing is in ``writing``."""

from datetime import UTC, datetime

from reelflow.contracts import ScriptRequested
from reelflow.runtime.bus import Delivery, StepRouter
from reelflow.runtime.service import RuntimeDep
from reelflow.script.settings import SCRIPT_STEP_DEADLINE_SEC, ScriptSettings
from reelflow.script.writing import script_writer, write_script

router = StepRouter()

# The offline writer is fast and deterministic. The LLM writer makes at most two calls of
# REELFLOW_LLM_TIMEOUT_SEC each, which ScriptSettings keeps within this deadline; a retryable LLM
# failure (timeout, connection, 429/5xx) is redelivered with this backoff.
SCRIPT_DELIVERY = Delivery(
    durable="script",
    ack_wait_sec=15,
    max_deliver=5,
    backoff_sec=(2, 10, 30, 60),
    handler_timeout_sec=SCRIPT_STEP_DEADLINE_SEC,
)


@router.step(ScriptRequested.subject, SCRIPT_DELIVERY)
async def on_script_requested(request: ScriptRequested, runtime: RuntimeDep[ScriptSettings]) -> None:
    writer = await script_writer(runtime)
    await runtime.bus.publish(await write_script(request, writer=writer, now=datetime.now(UTC)))
