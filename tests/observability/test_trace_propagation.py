"""One job is one trace: spans collected in-process (InMemorySpanExporter) while the real runtime carries a job
through two steps on FastStream's in-memory broker, started inside a request span, or later from a kept carrier
(as an outbox relay publishes)."""

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from reelflow.runtime.telemetry import (
    TracingSetupError,
    check_otlp_protocol,
    configure_tracing,
    continued_trace,
    otlp_endpoint,
    trace_carrier,
    tracer,
)
from tests.observability.probe_service import ProbeService, build_probe_service, render_requested

REQUEST_SPAN = "POST /api/videos/{video_id}/render-jobs"


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> ProbeService:
    return build_probe_service(tmp_path_factory.mktemp("probe-blobs"))


@pytest.fixture(scope="module")
def exporter_of_this_process() -> InMemorySpanExporter:
    """Every span this test process ends, from now on (the tracer provider is the one the runtime installed)."""
    configure_tracing("probe")
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(exporter_of_this_process: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    exporter_of_this_process.clear()
    yield exporter_of_this_process
    exporter_of_this_process.clear()


def named(spans: InMemorySpanExporter, name: str) -> ReadableSpan:
    [span] = [span for span in spans.get_finished_spans() if span.name == name]
    return span


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_every_step_of_a_job_continues_the_trace_of_the_request_that_started_it(
    probe: ProbeService, spans: InMemorySpanExporter, unique_id: str
) -> None:
    with tracer().start_as_current_span(REQUEST_SPAN):
        await probe.publish_event(render_requested(unique_id))

    request = named(spans, REQUEST_SPAN)
    narrate = named(spans, "probe rf.render.requested")
    compose = named(spans, "probe rf.render.narrated")
    assert request.context is not None and narrate.context is not None and compose.context is not None
    assert {span.context.trace_id for span in (request, narrate, compose)} == {request.context.trace_id}
    assert parent_id(narrate) == request.context.span_id
    assert parent_id(compose) == narrate.context.span_id, "each hop is a child of the step that published it"


async def test_an_event_published_later_from_a_kept_carrier_stays_in_the_request_trace(
    probe: ProbeService, spans: InMemorySpanExporter, unique_id: str
) -> None:
    with tracer().start_as_current_span(REQUEST_SPAN):
        carrier = trace_carrier()
    assert "traceparent" in carrier

    with continued_trace(carrier):  # the relay, after the request has answered
        await probe.publish_event(render_requested(unique_id))

    request, narrate = named(spans, REQUEST_SPAN), named(spans, "probe rf.render.requested")
    assert request.context is not None and narrate.context is not None
    assert narrate.context.trace_id == request.context.trace_id
    assert parent_id(narrate) == request.context.span_id


async def test_without_a_carrier_a_later_publish_starts_a_trace_of_its_own(
    probe: ProbeService, spans: InMemorySpanExporter, unique_id: str
) -> None:
    """Why the relay needs the carrier: the same publish outside any context splits the job's trace."""
    with tracer().start_as_current_span(REQUEST_SPAN):
        pass
    await probe.publish_event(render_requested(unique_id))

    request, narrate = named(spans, REQUEST_SPAN), named(spans, "probe rf.render.requested")
    assert request.context is not None and narrate.context is not None
    assert narrate.context.trace_id != request.context.trace_id
    assert narrate.parent is None


@pytest.mark.parametrize(
    ("environ", "endpoint"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318"}, "http://otel-collector:4318"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://tempo:4318/v1/traces"}, "http://tempo:4318/v1/traces"),
    ],
)
def test_traces_leave_the_process_only_when_an_otlp_endpoint_is_set(
    environ: dict[str, str], endpoint: str | None
) -> None:
    assert otlp_endpoint(environ) == endpoint


def test_a_grpc_protocol_is_refused_with_the_way_out() -> None:
    check_otlp_protocol({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
    with pytest.raises(TracingSetupError, match="4318"):
        check_otlp_protocol({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"})
