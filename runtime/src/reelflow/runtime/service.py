"""Builds a service process: logging, tracing, broker, bus, blobs and cancellation, injected into handlers."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

import structlog
from faststream import Context, FastStream
from faststream.nats import NatsBroker, NatsRouter

from reelflow.contracts import RenderCancel
from reelflow.runtime.blobs import BlobStore, S3BlobStore
from reelflow.runtime.bus import Delivery, EventBus, ensure_stream
from reelflow.runtime.cancellation import CancellationRegistry
from reelflow.runtime.delivery import step_delivery_middleware
from reelflow.runtime.settings import ServiceSettings
from reelflow.runtime.structured_logging import configure_logging
from reelflow.runtime.telemetry import configure_tracing

log = structlog.get_logger("reelflow.service")


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


@dataclass
class ServiceRuntime(Generic[SettingsT]):
    """Everything a handler may touch, created once per process and injected as ``Context("runtime")``."""

    name: str
    settings: SettingsT
    broker: NatsBroker
    bus: EventBus
    blobs: BlobStore
    cancellations: CancellationRegistry = field(default_factory=CancellationRegistry)
    extras: dict[str, Any] = field(default_factory=dict)


RuntimeDep = Annotated[ServiceRuntime[SettingsT], Context("runtime")]


def build_runtime(
    name: str,
    settings: SettingsT,
    router: NatsRouter,
    deliveries: Mapping[str, Delivery],
    *,
    blobs: BlobStore | None = None,
) -> ServiceRuntime[SettingsT]:
    """The one place a service process is wired: logging, tracing, broker with its delivery policy, bus, blobs."""
    configure_logging(name, level=settings.log_level, fmt=settings.log_format)
    configure_tracing(name, console_export=settings.otel_console_export)
    broker = NatsBroker(
        settings.nats_url,
        connect_timeout=int(settings.nats_connect_timeout_sec),
        name=f"reelflow-{name}",
        graceful_timeout=30.0,
    )
    bus = EventBus(broker, source=name, timeout_sec=settings.publish_timeout_sec)
    runtime: ServiceRuntime[SettingsT] = ServiceRuntime(
        name=name, settings=settings, broker=broker, bus=bus, blobs=blobs or S3BlobStore(settings)
    )
    broker.include_router(router, middlewares=[step_delivery_middleware(name, deliveries, bus)])
    broker.context.set_global("runtime", runtime)

    @broker.subscriber(RenderCancel.subject)
    async def on_cancel(event: RenderCancel) -> None:
        """Every replica hears a cancel (core NATS, no queue group) and stops that job's running work."""
        log.info("job canceled", job_id=event.job_id, reason=event.reason)
        runtime.cancellations.cancel(event.job_id, event.reason)

    return runtime


async def prepare_infrastructure(runtime: ServiceRuntime[SettingsT]) -> None:
    """Before subscribing: the stream exists with its config, and the buckets exist."""
    settings = runtime.settings
    await ensure_stream(settings.nats_url, timeout_sec=settings.nats_connect_timeout_sec)
    await runtime.blobs.ensure_buckets(settings.work_bucket, settings.media_bucket)


def build_service(
    name: str,
    settings: SettingsT,
    router: NatsRouter,
    deliveries: Mapping[str, Delivery],
    *,
    blobs: BlobStore | None = None,
) -> tuple[FastStream, ServiceRuntime[SettingsT]]:
    """A worker process as a FastStream app (``reelflow worker NAME``)."""
    runtime = build_runtime(name, settings, router, deliveries, blobs=blobs)
    app = FastStream(runtime.broker)

    @app.on_startup
    async def prepare() -> None:
        await prepare_infrastructure(runtime)
        log.info("service starting", nats=settings.nats_url, s3=settings.s3_endpoint)

    @app.on_shutdown
    async def close() -> None:
        log.info("service stopping")

    return app, runtime
