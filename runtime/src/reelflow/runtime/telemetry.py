"""OpenTelemetry tracing: one tracer provider per process; spans cross the bus through the ``traceparent`` header."""

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

_configured = False


def configure_tracing(service: str, *, console_export: bool = False) -> None:
    """Install a tracer provider once; spans are exported to the console only when asked for."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"reelflow-{service}"}))
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
