"""Builds a service process: logging, tracing, broker, bus, blobs and cancellation, injected into handlers.

A worker is an ASGI app (FastStream's ``AsgiFastStream``) run by uvicorn: uvicorn owns the signals, serves the
worker's ``/healthz``, ``/readyz`` and ``/metrics``, and on SIGTERM runs the shutdown that drains the broker. The
gateway builds the same runtime and starts it from its FastAPI lifespan.
"""

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Annotated, Any, Generic, TypeVar

import structlog
from faststream import Context
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import Scope
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient

from reelflow.contracts import RenderCancel
from reelflow.runtime.attempts import AttemptStates, KeyValueAttemptStates
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.bus import EventBus, StepRouter, ensure_bus
from reelflow.runtime.cancellation import CancellationRegistry
from reelflow.runtime.delivery import step_delivery_middleware
from reelflow.runtime.liveness import Verdict, WorkerHealth, exit_when_dead, watch_fetches
from reelflow.runtime.metrics import exposition
from reelflow.runtime.s3_blobs import blob_store_for
from reelflow.runtime.scratch_space import claim_scratch_space
from reelflow.runtime.settings import ServiceSettings
from reelflow.runtime.structured_logging import BROKER_LOGGER_NAME, configure_logging
from reelflow.runtime.telemetry import configure_tracing

log = structlog.get_logger("reelflow.service")

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
# Waiting for NATS or S3 at start-up: retry at once, then back off to this and keep trying for ever.
STARTUP_RETRY_CAP_SEC = 2.0
# A worker that fails liveness this long on end stops itself, so its supervisor restarts it.
WATCHDOG_GRACE_SEC = 60.0


class ServiceSetupError(RuntimeError):
    """The service is wired wrongly (a programming error found at start-up, before any message is taken)."""


def stop_this_process() -> None:
    """SIGTERM to this process: uvicorn shuts it down, and the supervisor (``reelflow up``, Kubernetes) restarts it."""
    os.kill(os.getpid(), signal.SIGTERM)


class ResilientNatsBroker(NatsBroker):
    """A NatsBroker whose start failing stops the process, and whose stop neither hangs nor raises while NATS is
    unreachable.

    FastStream reports the app started before the broker has made its subscriptions, and a failure there (a
    JetStream request unanswered while a cluster elects its leader) would leave a process that serves its probes
    but never consumes nor becomes ready. So the failure is logged and ``on_start_failure`` (stop this process)
    is called: a restarted process subscribes again from the start.

    Draining needs a live connection (nats-py refuses to drain while reconnecting), so during an outage the
    subscribers are stopped and the connection is closed at once; messages not acked are redelivered by JetStream.
    """

    on_start_failure: Callable[[], None] = staticmethod(stop_this_process)

    async def start(self) -> None:
        try:
            await super().start()
        except Exception as error:
            log.error(
                "the subscriptions could not be made; stopping so that the process is restarted",
                error=f"{type(error).__name__}: {error}",
            )
            self.on_start_failure()
            raise

    async def stop(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> None:
        connection: NatsClient | None = self._connection
        if connection is None or connection.is_connected:
            await super().stop(exc_type, exc_val, exc_tb)
            return
        with contextlib.suppress(Exception):
            await super(NatsBroker, self).stop(exc_type, exc_val, exc_tb)
        with contextlib.suppress(Exception):
            await connection.close()
        self._connection = None
        self.config.disconnect()


@dataclass
class ServiceRuntime(Generic[SettingsT]):
    """Everything a handler may touch, created once per process and injected as ``Context("runtime")``."""

    name: str
    settings: SettingsT
    broker: NatsBroker
    bus: EventBus
    blobs: BlobStore
    cancellations: CancellationRegistry
    health: WorkerHealth
    extras: dict[str, Any] = field(default_factory=dict)
    background: list["asyncio.Task[None]"] = field(default_factory=list)


RuntimeDep = Annotated[ServiceRuntime[SettingsT], Context("runtime")]


async def _log_disconnected() -> None:
    log.warning("NATS connection lost; reconnecting")


async def _log_reconnected() -> None:
    log.info("NATS connection back")


async def _log_closed() -> None:
    log.error("NATS connection closed")


async def _log_connection_error(error: Exception) -> None:
    log.warning("NATS connection error", error=f"{type(error).__name__}: {error}")


def nats_servers(nats_url: str) -> list[str]:
    """``REELFLOW_NATS_URL`` may list several servers of one cluster, comma-separated; the client uses them all."""
    servers = [url.strip() for url in nats_url.split(",") if url.strip()]
    if not servers:
        raise ServiceSetupError("REELFLOW_NATS_URL names no NATS server")
    return servers


def build_runtime(
    name: str,
    settings: SettingsT,
    router: StepRouter,
    *,
    blobs: BlobStore | None = None,
    attempts: AttemptStates | None = None,
) -> ServiceRuntime[SettingsT]:
    """The one place a service process is wired: logging, tracing, broker with its delivery policy, bus, blobs.

    The broker reconnects for ever (a fixed, jittered wait between tries, never a busy loop); ``attempts`` is the
    record of finished job attempts, the JetStream one once :func:`connect_bus` has run.
    """
    undeclared = router.undeclared_subjects()
    if undeclared:
        raise ServiceSetupError(
            f"{name}: subscribers without a delivery policy on {', '.join(undeclared)}; register each with "
            "router.step(subject, Delivery(...)) or, for core-NATS notices, router.live(subject)"
        )
    configure_logging(name, level=settings.log_level, fmt=settings.log_format)
    configure_tracing(name, console_export=settings.otel_console_export)
    broker = ResilientNatsBroker(
        nats_servers(settings.nats_url),
        logger=logging.getLogger(BROKER_LOGGER_NAME),
        connect_timeout=int(settings.nats_connect_timeout_sec),
        name=f"reelflow-{name}",
        graceful_timeout=settings.shutdown_grace_sec,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=int(settings.nats_reconnect_wait_sec),
        ping_interval=int(settings.nats_ping_interval_sec),
        max_outstanding_pings=3,
        drain_timeout=int(settings.nats_drain_timeout_sec),
        disconnected_cb=_log_disconnected,
        reconnected_cb=_log_reconnected,
        closed_cb=_log_closed,
        error_cb=_log_connection_error,
    )
    bus = EventBus(broker, source=name, timeout_sec=settings.publish_timeout_sec, attempts=attempts)
    cancellations = CancellationRegistry()
    health = WorkerHealth()
    runtime: ServiceRuntime[SettingsT] = ServiceRuntime(
        name=name,
        settings=settings,
        broker=broker,
        bus=bus,
        blobs=blobs or blob_store_for(settings),
        cancellations=cancellations,
        health=health,
    )
    middleware = step_delivery_middleware(name, router.deliveries, bus, cancellations, health)
    broker.include_router(router, middlewares=[middleware])
    broker.context.set_global("runtime", runtime)

    @broker.subscriber(RenderCancel.subject, no_reply=True)
    async def on_cancel(event: RenderCancel) -> None:
        """Every replica hears a cancel on core NATS and stops that attempt's running work.

        It never replies: the cancel is published to JetStream, and a reply would race the stream's PubAck.
        A replica that misses it still stops within a heartbeat, from the attempts record.
        """
        if runtime.cancellations.cancel(event.job_id, event.attempt, event.reason):
            log.info("job attempt canceled", job_id=event.job_id, attempt=event.attempt, reason=event.reason)

    return runtime


async def _until_it_works(what: str, attempt: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``attempt`` until it succeeds, logging each failure; waits grow to STARTUP_RETRY_CAP_SEC."""
    wait = 0.1
    while True:
        try:
            return await attempt()
        except Exception as error:
            log.warning(f"waiting for {what}", error=f"{type(error).__name__}: {error}", retry_in_sec=wait)
            await asyncio.sleep(wait)
            wait = min(STARTUP_RETRY_CAP_SEC, wait * 2)


async def connect_bus(runtime: ServiceRuntime[SettingsT]) -> None:
    """Before subscribing: connect (waiting for NATS as long as it takes), create the stream and the attempts
    record, and make sure the buckets exist (waiting for S3 likewise)."""
    settings = runtime.settings

    async def connect() -> NatsClient:
        connection: NatsClient = await runtime.broker.connect()
        return connection

    connection: NatsClient = await _until_it_works(f"NATS at {settings.nats_url}", connect)
    bucket = await _until_it_works(
        "the REELFLOW stream", lambda: ensure_bus(connection, replicas=settings.stream_replicas)
    )
    runtime.bus.connection = connection
    runtime.health.connection = connection
    if runtime.bus.attempts is None:
        runtime.bus.attempts = KeyValueAttemptStates(bucket)
    store = "S3" if settings.storage_provider != "local" else f"the media directory {settings.storage_local_dir}"
    await _until_it_works(store, lambda: runtime.blobs.ensure_buckets(settings.work_bucket, settings.media_bucket))


def watch_consumers(runtime: ServiceRuntime[SettingsT], *, watchdog: bool = True) -> None:
    """After the broker started: watch each pull loop for liveness, and stop the process if one dies for good."""
    for subscriber in runtime.broker.subscribers:
        subscription = getattr(subscriber, "subscription", None)
        durable = getattr(getattr(subscriber, "config", None), "durable_name", None)
        if subscription is not None and hasattr(subscription, "fetch") and isinstance(durable, str):
            watch_fetches(subscription, runtime.health.loop(durable))
    runtime.health.started = True
    if watchdog:
        runtime.background.append(asyncio.create_task(exit_when_dead(runtime.health, grace_sec=WATCHDOG_GRACE_SEC)))


async def stop_background(runtime: ServiceRuntime[SettingsT]) -> None:
    for task in runtime.background:
        task.cancel()
    for task in runtime.background:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    runtime.background.clear()


def _verdict_response(verdict: Verdict) -> AsgiResponse:
    return JSONResponse(verdict.body(), status_code=200 if verdict.ok else 503)


def build_service(
    name: str,
    settings: SettingsT,
    router: StepRouter,
    *,
    blobs: BlobStore | None = None,
) -> tuple[AsgiFastStream, ServiceRuntime[SettingsT]]:
    """A worker process (``reelflow worker NAME``): the broker, plus ``GET /healthz``, ``/readyz`` and ``/metrics``."""
    runtime = build_runtime(name, settings, router, blobs=blobs)

    @get(include_in_schema=False)
    async def healthz(scope: Scope) -> AsgiResponse:
        """Liveness: the NATS connection has not given up and every consume loop is alive."""
        return _verdict_response(runtime.health.liveness())

    @get(include_in_schema=False)
    async def readyz(scope: Scope) -> AsgiResponse:
        """Readiness: started and connected to NATS."""
        return _verdict_response(runtime.health.readiness())

    @get(include_in_schema=False)
    async def metrics(scope: Scope) -> AsgiResponse:
        """Prometheus metrics, with each consumer's lag read from JetStream now."""
        body, content_type = await exposition(runtime.bus.connection, runtime.health.loops)
        return AsgiResponse(body, headers={"Content-Type": content_type})

    app = AsgiFastStream(
        runtime.broker,
        asgi_routes=[("/healthz", healthz), ("/readyz", readyz), ("/metrics", metrics)],
        logger=None,
    )

    @app.on_startup
    async def prepare() -> None:
        claim_scratch_space(name)
        await connect_bus(runtime)
        log.info("service starting", nats=settings.nats_url)

    @app.after_startup
    async def consuming() -> None:
        watch_consumers(runtime)
        log.info("service consuming", health_port=settings.health_port)

    @app.on_shutdown
    async def stopping() -> None:
        log.info("service stopping: no new messages; in-flight work finishes or is handed back")
        await stop_background(runtime)

    @app.after_shutdown
    async def stopped() -> None:
        log.info("service stopped")

    return app, runtime
