"""OpenTelemetry tracing: one tracer provider per process, exported over OTLP when an endpoint is set.

Spans cross the bus in the W3C ``traceparent`` header: every event is published with the current span's context,
and the delivery middleware starts each step's span from the context its message carries. So one job is one trace,
from the REST call that started it, through every service, back to the ledger.

Export follows the OpenTelemetry environment variables: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns it on, and the exporter reads its headers, timeout and compression
from the usual ``OTEL_EXPORTER_OTLP_*`` variables. Without an endpoint nothing leaves the process.
"""

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

OTLP_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
OTLP_PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
# The image carries the OTLP/HTTP exporter only (no gRPC stack): collectors take it on port 4318.
SUPPORTED_OTLP_PROTOCOL = "http/protobuf"

_configured = False


class TracingSetupError(ValueError):
    """The OpenTelemetry environment asks for something this build cannot do."""


def otlp_endpoint(environ: Mapping[str, str]) -> str | None:
    """The OTLP endpoint the environment names, or None when traces stay in the process."""
    for variable in OTLP_ENDPOINT_VARIABLES:
        value = environ.get(variable, "").strip()
        if value:
            return value
    return None


def check_otlp_protocol(environ: Mapping[str, str]) -> None:
    for variable in OTLP_PROTOCOL_VARIABLES:
        protocol = environ.get(variable, "").strip()
        if protocol and protocol != SUPPORTED_OTLP_PROTOCOL:
            raise TracingSetupError(
                f"{variable}={protocol} is not supported: reelflow exports traces over OTLP/HTTP "
                f"({SUPPORTED_OTLP_PROTOCOL}); point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's HTTP port (4318)"
            )


def configure_tracing(service: str, *, console_export: bool = False, environ: Mapping[str, str] | None = None) -> None:
    """Install this process's tracer provider, once: OTLP export when an endpoint is set, console when asked."""
    global _configured
    if _configured:
        return
    environ = os.environ if environ is None else environ
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": f"reelflow-{service}", "service.instance.id": f"{socket.gethostname()}-{os.getpid()}"}
        )
    )
    if otlp_endpoint(environ) is not None:
        check_otlp_protocol(environ)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if console_export:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def tracer() -> trace.Tracer:
    return trace.get_tracer("reelflow")


def inject_traceparent(headers: dict[str, str]) -> dict[str, str]:
    """Add ``traceparent`` for the current span to ``headers`` (no-op outside a span)."""
    inject(headers)
    return headers


def context_from_headers(headers: Mapping[str, str]) -> otel_context.Context:
    return extract(dict(headers))


def trace_carrier() -> dict[str, str]:
    """The current trace context as headers, to keep with work that is published later (an outbox entry)."""
    return inject_traceparent({})


@contextmanager
def continued_trace(carrier: Mapping[str, str]) -> Iterator[None]:
    """Make a kept :func:`trace_carrier` current, so events published inside continue the trace it came from.

    A relay that publishes stored events runs outside the request that wrote them; without this each event would
    start a trace of its own and the job would be split in two.
    """
    token = otel_context.attach(context_from_headers(carrier))
    try:
        yield
    finally:
        otel_context.detach(token)
