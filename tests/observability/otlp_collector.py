"""A fake OpenTelemetry collector: an OTLP/HTTP endpoint on loopback that keeps every span the services export.

It speaks the real protocol (``POST /v1/traces`` with an ``ExportTraceServiceRequest`` in protobuf, answered with
an ``ExportTraceServiceResponse``), so the services run their real OTLP exporter against it.
"""

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from reelflow.local.ports import LOOPBACK

TRACES_PATH = "/v1/traces"


@dataclass(frozen=True)
class CollectedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, str]


class SpanStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[CollectedSpan] = []
        self.requests = 0

    def add(self, request: ExportTraceServiceRequest) -> None:
        spans = []
        for resource_spans in request.resource_spans:
            resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        CollectedSpan(
                            service=resource.get("service.name", ""),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            attributes={kv.key: kv.value.string_value for kv in span.attributes},
                        )
                    )
        with self._lock:
            self._spans.extend(spans)
            self.requests += 1

    def spans(self) -> list[CollectedSpan]:
        with self._lock:
            return list(self._spans)


def _handler_for(store: SpanStore) -> type[BaseHTTPRequestHandler]:
    class OtlpHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != TRACES_PATH or self.headers.get("Content-Type") != "application/x-protobuf":
                self.send_error(404 if self.path != TRACES_PATH else 415)
                return
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            store.add(request)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return

    return OtlpHandler


@contextmanager
def otlp_collector() -> Iterator[tuple[str, SpanStore]]:
    """Serve on a free loopback port; yields the endpoint for ``OTEL_EXPORTER_OTLP_ENDPOINT`` and the spans."""
    store = SpanStore()
    server = ThreadingHTTPServer((LOOPBACK, 0), _handler_for(store))
    thread = threading.Thread(target=server.serve_forever, name="otlp-collector", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}", store
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
