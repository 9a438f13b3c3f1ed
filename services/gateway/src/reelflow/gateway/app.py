"""The gateway process: FastAPI (REST, SSE, WebSocket) plus the ledger's NATS subscribers and the outbox relay,
sharing one lifespan."""

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from reelflow.gateway.account_commands import AccountCommands
from reelflow.gateway.account_store import AccountStore
from reelflow.gateway.api.deps import GatewayState
from reelflow.gateway.api.docs_pages import install_docs_pages
from reelflow.gateway.api.errors import install_error_handlers
from reelflow.gateway.api.response_headers import SecurityHeadersMiddleware
from reelflow.gateway.api.routes import (
    accounts,
    assets,
    backend,
    channels,
    health,
    lexicon,
    library,
    metrics,
    progress_socket,
    ranking_jobs,
    render_jobs,
    schedules,
    scripts,
    studio,
    uploads,
    voices,
    webhooks,
)
from reelflow.gateway.authentication import Authenticator, Budgets
from reelflow.gateway.backend_callbacks import BackendCallbacks
from reelflow.gateway.backend_jobs import BackendJobs
from reelflow.gateway.backend_specs import BackendSpecs
from reelflow.gateway.channel_store import ChannelStore
from reelflow.gateway.connected_channels import CALLBACK_PATH, ChannelSetup, ConnectedChannels
from reelflow.gateway.event_projector import EventProjector
from reelflow.gateway.handlers import router
from reelflow.gateway.http_observability import instrument_http
from reelflow.gateway.outbox import OutboxRelay
from reelflow.gateway.ownership import Access, VideoRegistry
from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.rate_limits import Budget, RateLimiter
from reelflow.gateway.readiness import DependencyCheck, Readiness
from reelflow.gateway.render_checks import CallbackChecks, RenderChecks
from reelflow.gateway.render_job_commands import RenderJobCommands
from reelflow.gateway.schedule_commands import ScheduleCommands
from reelflow.gateway.schedule_store import ScheduleStore
from reelflow.gateway.scheduler import GatewayWork, Scheduler, SchedulerPolicy
from reelflow.gateway.script_commands import ScriptCommands
from reelflow.gateway.settings import GatewaySettings
from reelflow.gateway.store import LedgerStore
from reelflow.gateway.video_library import VideoLibrary
from reelflow.gateway.webhook_dispatcher import DeliveryPolicy, WebhookDispatcher
from reelflow.gateway.webhook_schedule import DAY_SEC
from reelflow.gateway.webhook_store import WebhookStore
from reelflow.gateway.webhook_subscriptions import WebhookSubscriptions
from reelflow.gateway.workspace_lexicons import WorkspaceLexicons
from reelflow.gateway.youtube_oauth import GoogleOAuth, OAuthClient
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.failures import StorageUploadError
from reelflow.runtime.s3_blobs import PresignedLinks
from reelflow.runtime.scratch_space import claim_scratch_space
from reelflow.runtime.service import ServiceRuntime, build_runtime, connect_bus, stop_background, watch_consumers

READINESS_PROBE_KEY = ".readyz"
log = structlog.get_logger("reelflow.gateway")
# What a page on an allowed origin may send, and which answer headers its script may read (ETag for If-Match on
# script edits, Content-Range for partial downloads, X-Trace-Id for reporting an error, Retry-After when limited).
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "If-Match", "X-CSRF-Token", "X-Internal-Token"]
CORS_EXPOSED_HEADERS = ["ETag", "Content-Range", "Content-Disposition", "X-Trace-Id", "Retry-After", "Location"]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def _readiness(runtime: ServiceRuntime[GatewaySettings], store: LedgerStore, timeout_sec: float) -> Readiness:
    async def nats() -> None:
        if not await runtime.broker.ping(timeout=timeout_sec):
            raise ConnectionError("NATS is not connected")

    async def media_store() -> None:
        await runtime.blobs.stat(runtime.settings.work_bucket, READINESS_PROBE_KEY)

    # Named for what is there: S3 (also under backend_presigned, which keeps reelflow's own copy in S3), or the
    # shared directory under REELFLOW_STORAGE_PROVIDER=local, so an operator is not sent looking for an S3 server.
    media = "media-directory" if runtime.settings.storage_provider == "local" else "s3"
    checks = [DependencyCheck("nats", nats), DependencyCheck("mongo", store.ping), DependencyCheck(media, media_store)]
    return Readiness(checks, timeout_sec=timeout_sec)


async def _reseal_channel_grants(channels: ConnectedChannels) -> None:
    """Re-seal the stored channel grants under the first REELFLOW_CHANNEL_TOKEN_KEY while older keys are still
    given (a key rotation; with one key this reads nothing). A failure is logged, not fatal: the older keys still
    open the grants, and the next start tries again."""
    try:
        count = await channels.reseal_grants()
    except (PyMongoError, StorageUploadError) as exc:
        log.warning("channel_grants_not_resealed", error=str(exc), retry="at the next start")
        return
    if count.resealed or count.unopenable:
        log.info(
            "channel_grants_resealed",
            resealed=count.resealed,
            already_current=count.current,
            unopenable=count.unopenable,
            note="every grant is now sealed under the first key; older keys can be dropped"
            if not count.unopenable
            else "grants no key opens belong to channels that must be connected again",
        )


def _budgets(settings: GatewaySettings) -> Budgets:
    window = settings.rate_limit_window_sec
    return Budgets(
        every_request=Budget("requests", settings.rate_limit_requests, window),
        writes=Budget("writes", settings.rate_limit_writes, window),
        sign_ins=Budget("sign-ins", settings.rate_limit_sign_ins, window),
    )


async def _open_accounts(
    settings: GatewaySettings, mongo: AsyncMongoClient[dict[str, Any]], ledger: LedgerStore
) -> tuple[AccountCommands, Authenticator, Access, VideoRegistry]:
    """The account side of the gateway, with a first admin on a fresh install (its made-up password logged once)."""
    account_store = AccountStore(mongo, settings.mongo_db)
    registry = VideoRegistry(mongo, settings.mongo_db)
    await account_store.ensure_indexes()
    await registry.ensure_indexes()
    commands = AccountCommands(account_store, session_lifetime=timedelta(hours=settings.session_lifetime_hours))
    first = await commands.ensure_first_admin(
        settings.admin_email, settings.admin_password.get_secret_value(), settings.admin_api_key.get_secret_value()
    )
    if first is not None:
        log.warning(
            "first admin created",
            email=first.email,
            password=first.password or "(REELFLOW_ADMIN_PASSWORD)",
            note="shown once; sign in at /studio/ and change it, or add users with `reelflow admin`",
        )
    authenticator = Authenticator(
        account_store,
        RateLimiter(mongo, settings.mongo_db),
        _budgets(settings),
        internal_token=settings.internal_token.get_secret_value(),
        internal_workspace=settings.internal_workspace,
    )
    return commands, authenticator, Access(registry, ledger), registry


def _delivery_policy(settings: GatewaySettings) -> DeliveryPolicy:
    return DeliveryPolicy(
        timeout_sec=settings.webhook_timeout_sec,
        retry_delays_sec=tuple(settings.webhook_retry_delays_sec),
        disable_after_sec=settings.webhook_disable_after_days * DAY_SEC,
        lease_sec=settings.webhook_lease_sec,
        poll_sec=settings.webhook_poll_sec,
        log_retention_sec=settings.webhook_log_retention_days * DAY_SEC,
        allow_private_targets=settings.webhook_allow_private_targets,
        callback_secret=settings.webhook_secret.get_secret_value(),
        backend_api_token=settings.backend_api_token.get_secret_value(),
        backend_timeout_sec=settings.backend_timeout_sec,
    )


def google_http_client(settings: GatewaySettings) -> httpx.AsyncClient:
    """The client of the gateway's calls to Google (connecting channels), each within REELFLOW_YOUTUBE_TIMEOUT_SEC."""
    bundle = settings.youtube_ca_bundle
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(bundle)) if bundle is not None else True
    return httpx.AsyncClient(
        timeout=settings.youtube_timeout_sec, follow_redirects=False, trust_env=False, verify=verify
    )


def channel_setup(settings: GatewaySettings, blobs: BlobStore, http: httpx.AsyncClient) -> ChannelSetup:
    """How this gateway connects channels; the OAuth client is left out unless both its id and secret are set."""
    client_id, client_secret = settings.youtube_client_id.strip(), settings.youtube_client_secret.get_secret_value()
    google = None
    if client_id and client_secret:
        client = OAuthClient(
            client_id=client_id,
            client_secret=client_secret,
            token_uri=settings.youtube_token_uri,
            auth_uri=settings.youtube_auth_uri,
            api_url=settings.youtube_api_url,
        )
        google = GoogleOAuth(client, http)
    return ChannelSetup(
        google=google,
        sealer=settings.grant_sealer(),
        blobs=blobs,
        work_bucket=settings.work_bucket,
        redirect_uri=f"{settings.gateway_base_url}{CALLBACK_PATH}",
    )


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    runtime = build_runtime("gateway", settings, router)
    hub = ProgressHub()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        claim_scratch_space("gateway")
        timeout = settings.mongo_timeout_ms
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongo_url,
            tz_aware=True,
            serverSelectionTimeoutMS=timeout,
            connectTimeoutMS=timeout,
            socketTimeoutMS=timeout * 2,
        )
        store = LedgerStore(mongo, settings.mongo_db)
        await store.ensure_indexes()
        account_commands, authenticator, access, registry = await _open_accounts(settings, mongo, store)
        video_library = VideoLibrary(
            mongo, settings.mongo_db, registry, store, runtime.blobs, media_bucket=settings.media_bucket
        )
        await video_library.ensure_indexes()
        relay = OutboxRelay(store, runtime.bus, idle_sec=settings.outbox_idle_sec)
        channel_store = ChannelStore(mongo, settings.mongo_db)
        await channel_store.ensure_indexes()
        google_http = google_http_client(settings)
        connected_channels = ConnectedChannels(channel_store, channel_setup(settings, runtime.blobs, google_http))
        await _reseal_channel_grants(connected_channels)
        checks = RenderChecks(
            runtime.blobs,
            settings.media_bucket,
            publishing_available=settings.youtube_install_channel_configured,
            channels=connected_channels if settings.channels_connectable else None,
            owner_of=registry.owner_of,
            voice_providers=frozenset(settings.voice_providers),
            callbacks=CallbackChecks(
                signed=bool(settings.webhook_secret.get_secret_value()),
                allow_private_targets=settings.webhook_allow_private_targets,
            ),
        )
        scripts_commands = ScriptCommands(store, relay, checks)
        lexicons = WorkspaceLexicons(mongo, settings.mongo_db, registry)
        jobs = RenderJobCommands(store, relay, checks, scripts_commands, lexicons=lexicons)
        webhook_store = WebhookStore(mongo, settings.mongo_db)
        await webhook_store.ensure_indexes()
        webhook_http = httpx.AsyncClient(timeout=settings.webhook_timeout_sec, follow_redirects=False, trust_env=False)
        dispatcher = WebhookDispatcher(webhook_store, registry, webhook_http, _delivery_policy(settings))
        backend_callbacks = BackendCallbacks(
            store,
            dispatcher,
            backend_base_url=settings.backend_base_url,
            gateway_base_url=settings.gateway_base_url,
        )
        projector = EventProjector(
            store,
            runtime.bus,
            hub,
            relay,
            jobs,
            dispatcher,
            backend_callbacks,
            assets_base_url=settings.gateway_base_url,
        )
        runtime.broker.context.set_global("projector", projector)
        backend_http = httpx.AsyncClient(timeout=settings.backend_timeout_sec, follow_redirects=False, trust_env=False)
        await connect_bus(runtime)
        await runtime.broker.start()
        watch_consumers(runtime)
        runtime.background.append(asyncio.create_task(relay.run(), name="outbox relay"))
        relay.kick()  # events owed before a restart go out now, not at the first idle tick
        runtime.background.append(asyncio.create_task(dispatcher.run(), name="webhook sender"))
        schedule_store = ScheduleStore(mongo, settings.mongo_db)
        await schedule_store.ensure_indexes()
        scheduler = Scheduler(
            schedule_store,
            store,
            GatewayWork(access, scripts_commands, jobs),
            SchedulerPolicy(poll_sec=settings.schedule_poll_sec, lease_sec=settings.schedule_lease_sec),
        )
        runtime.background.append(asyncio.create_task(scheduler.run(), name="scheduler"))
        app.state.gateway = GatewayState(
            settings=settings,
            runtime=runtime,
            scripts=scripts_commands,
            jobs=jobs,
            hub=hub,
            readiness=_readiness(runtime, store, settings.readiness_timeout_sec),
            accounts=account_commands,
            authenticator=authenticator,
            access=access,
            library=video_library,
            public_links=PresignedLinks(settings, settings.public_s3_url) if settings.public_s3_url else None,
            webhooks=WebhookSubscriptions(webhook_store, allow_private_targets=settings.webhook_allow_private_targets),
            schedules=ScheduleCommands(schedule_store, store, checks, on_change=scheduler.kick),
            backend_jobs=BackendJobs(BackendSpecs(settings.backend_connection(), backend_http), jobs, access),
            lexicons=lexicons,
            channels=connected_channels,
        )
        try:
            yield
        finally:
            await stop_background(runtime)
            await runtime.broker.stop()
            await webhook_http.aclose()
            await backend_http.aclose()
            await google_http.aclose()
            await mongo.close()

    return build_api(lifespan, settings)


def build_api(lifespan: Lifespan | None = None, settings: GatewaySettings | None = None) -> FastAPI:
    """The REST API itself (routes, error handling, headers, OpenAPI document and its pages), without the process
    it runs in.

    ``create_app`` gives it the lifespan that connects it and its settings; on its own it serves the OpenAPI
    document to tools that need it before any server runs (the schemathesis tests).
    """
    settings = settings or GatewaySettings()
    app = FastAPI(
        title="reelflow gateway",
        version="0.1.0",
        description="Lesson text to narrated, subtitled video; uploaded clips to ranking shorts. "
        "Errors are {'error': {code, message, details}}.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    instrument_http(app)
    routers = (
        accounts,
        library,
        scripts,
        render_jobs,
        uploads,
        ranking_jobs,
        webhooks,
        channels,
        assets,
        progress_socket,
        backend,
        voices,
        lexicon,
    )
    for module in (*routers, schedules, health, metrics, studio):
        app.include_router(module.router)
    install_docs_pages(app)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_credentials=True,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
        )
    # Added last, so it is outermost: CORS preflights and every error answer get the headers too.
    app.add_middleware(SecurityHeadersMiddleware, trust_forwarded_headers=settings.trust_forwarded_headers)
    return app
