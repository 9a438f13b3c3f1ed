"""The gateway's HTTP API, observed: Prometheus request metrics by route template, and one trace span per request.

The request's span is where a job's trace starts (or continues, when the caller sent a ``traceparent``): the events
the route publishes carry it on to every service.
"""

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_fastapi_instrumentator import Instrumentator

# Probes and scrapes would drown the requests that matter.
UNTRACED_URLS = "/healthz$,/readyz$,/metrics$"
UNMEASURED_HANDLERS = ["^/metrics$"]
METRIC_NAMESPACE = "reelflow"
# Per-route latency buckets: most answers take milliseconds, an upload or a presign may take seconds.
LATENCY_BUCKETS_SEC = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def instrument_http(app: FastAPI) -> None:
    """Count requests by route template, method and status, time them, and trace them.

    A streamed response (SSE progress) is timed to its first byte: its whole life would say how long a client
    watched, not how fast the gateway answered.
    """
    Instrumentator(
        should_group_status_codes=False,
        should_exclude_streaming_duration=True,
        excluded_handlers=UNMEASURED_HANDLERS,
    ).instrument(app, metric_namespace=METRIC_NAMESPACE, latency_lowr_buckets=LATENCY_BUCKETS_SEC)
    FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_URLS, exclude_spans=["receive", "send"])
