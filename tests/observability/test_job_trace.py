"""One job is one trace, across real processes: the six services export over OTLP/HTTP to a fake collector in the
test process, a lesson goes from the REST call to COMPLETED, and every span of the job must share the request's
trace and hang from it.

Slow (about a minute and a half on a loaded 2-core machine): it starts its own servers and six service processes,
because services shared with other tests would not export their spans here.
"""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.servers import EmbeddedStack
from reelflow.local.workers import WorkerGroup
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import start_lesson_job, wait_for_job
from tests.observability.otlp_collector import CollectedSpan, SpanStore, otlp_collector

pytestmark = pytest.mark.connected

REQUEST_SPAN = "POST /api/videos/{video_id}/render-jobs"
# (service, span) of every hop a lesson job takes, and the ledger's view of each event, back to the ledger.
JOB_HOPS = {
    ("reelflow-gateway", REQUEST_SPAN),
    ("reelflow-gateway", "gateway rf.render.requested"),
    ("reelflow-tts", "tts rf.render.requested"),
    ("reelflow-gateway", "gateway rf.render.narrated"),
    ("reelflow-compose", "compose rf.render.narrated"),
    ("reelflow-gateway", "gateway rf.render.composed"),
    ("reelflow-storage", "storage rf.render.composed"),
    ("reelflow-gateway", "gateway rf.render.stored"),
    ("reelflow-uploader", "uploader rf.render.stored"),
    ("reelflow-gateway", "gateway rf.render.completed"),
    ("reelflow-storage", "storage rf.render.completed"),
}
SPANS_ARRIVE_WITHIN_SEC = 30.0


@dataclass(frozen=True)
class TracedServices:
    gateway_url: str
    spans: SpanStore
    workers: WorkerGroup


@pytest.fixture
def traced_services(tmp_path: Path) -> Iterator[TracedServices]:
    with otlp_collector() as (endpoint, spans), EmbeddedStack(tmp_path / "stack") as endpoints:
        gateway_port = free_port()
        env = endpoints.service_env() | {
            "REELFLOW_GATEWAY_PORT": str(gateway_port),
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",  # milliseconds: spans reach the collector soon after they end
        }
        gateway_url = f"http://{LOOPBACK}:{gateway_port}"
        with WorkerGroup(env, tmp_path / "logs") as workers:
            workers.wait_ready(endpoints.nats_url, gateway_url, timeout_sec=120)
            yield TracedServices(gateway_url, spans, workers)


def job_trace(spans: list[CollectedSpan], job_id: str) -> tuple[str | None, list[CollectedSpan]]:
    """The request span's trace id, and every span of the job (the request's trace, or naming the job)."""
    steps = [span for span in spans if span.attributes.get("reelflow.job_id") == job_id]
    first_hop = [span for span in steps if span.name == "tts rf.render.requested"]
    trace_id = first_hop[0].trace_id if first_hop else None
    return trace_id, [span for span in spans if span.trace_id == trace_id or span in steps]


def missing_hops_report(missing: set[tuple[str, str]], trace_id: str, traced: TracedServices) -> str:
    """What to look at when a hop is missing: whether its span arrived in another trace (a context that was not
    carried) or not at all (an export that failed: the services log the exporter's warnings)."""
    elsewhere = [
        f"{span.service} {span.name!r} in trace {span.trace_id} (parent {span.parent_span_id or 'none'})"
        for span in traced.spans.spans()
        if (span.service, span.name) in missing
    ]
    return (
        f"missing hops: {sorted(missing)} from trace {trace_id}; the same spans elsewhere: {elsewhere or 'none'}; "
        f"{traced.spans.requests} exports received\n{traced.workers.log_tails()}"
    )


@pytest.mark.timeout(300)
async def test_a_lesson_job_is_one_trace_from_the_rest_call_through_every_service_back_to_the_ledger(
    traced_services: TracedServices, unique_id: str
) -> None:
    async with httpx.AsyncClient(base_url=traced_services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        job_id = await start_lesson_job(client, f"traced-{unique_id}")
        job = await wait_for_job(client, job_id)
    assert job["status"] == "COMPLETED", job

    deadline = time.monotonic() + SPANS_ARRIVE_WITHIN_SEC
    while True:
        trace_id, spans = job_trace(traced_services.spans.spans(), job_id)
        hops = {(span.service, span.name) for span in spans}
        if hops >= JOB_HOPS or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)

    assert trace_id is not None, "no span of the job reached the collector"
    assert hops >= JOB_HOPS, missing_hops_report(JOB_HOPS - hops, trace_id, traced_services)
    assert {span.trace_id for span in spans} == {trace_id}, "a span of the job is in another trace"

    # One tree: the REST call is the root, and every other span's parent is a span of the same trace.
    span_ids = {span.span_id for span in spans}
    roots = [span for span in spans if not span.parent_span_id]
    assert [(root.service, root.name) for root in roots] == [("reelflow-gateway", REQUEST_SPAN)]
    orphans = [span.name for span in spans if span.parent_span_id and span.parent_span_id not in span_ids]
    assert not orphans, f"spans whose parent never arrived: {orphans}"
    by_id = {span.span_id: span for span in spans}
    compose = next(span for span in spans if span.name == "compose rf.render.narrated")
    assert by_id[compose.parent_span_id].name == "tts rf.render.requested", "compose continues tts's span"
