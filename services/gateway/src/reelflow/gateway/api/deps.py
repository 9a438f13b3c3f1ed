"""FastAPI dependencies: the gateway's process-wide state and the caller of each request, as ``Annotated`` aliases.

Every route but sign-in, health and metrics takes one of the caller aliases (:data:`Reader`, :data:`ScriptWriter`,
…): it authenticates the request, spends its rate-limit budget, and checks the scope the route needs. FastAPI
caches the caller within a request, so a route that needs two scopes still counts once.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPBearer
from starlette.requests import HTTPConnection

from reelflow.gateway.account_commands import AccountCommands
from reelflow.gateway.accounts import Caller, CallerKind, Scope
from reelflow.gateway.authentication import (
    INTERNAL_TOKEN_HEADER,
    SESSION_COOKIE,
    Authenticator,
    RequestCredentials,
    origin_is_allowed,
)
from reelflow.gateway.backend_jobs import BackendJobs
from reelflow.gateway.connected_channels import ConnectedChannels
from reelflow.gateway.ownership import Access
from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.readiness import Readiness
from reelflow.gateway.refusals import ForbiddenError
from reelflow.gateway.render_job_commands import RenderJobCommands
from reelflow.gateway.schedule_commands import ScheduleCommands
from reelflow.gateway.script_commands import ScriptCommands
from reelflow.gateway.settings import GatewaySettings
from reelflow.gateway.video_library import VideoLibrary
from reelflow.gateway.webhook_subscriptions import WebhookSubscriptions
from reelflow.gateway.workspace_lexicons import WorkspaceLexicons
from reelflow.runtime.s3_blobs import PresignedLinks
from reelflow.runtime.service import ServiceRuntime


@dataclass
class GatewayState:
    settings: GatewaySettings
    runtime: ServiceRuntime[GatewaySettings]
    scripts: ScriptCommands
    jobs: RenderJobCommands
    hub: ProgressHub
    readiness: Readiness
    accounts: AccountCommands
    authenticator: Authenticator
    access: Access
    library: VideoLibrary
    webhooks: WebhookSubscriptions
    schedules: ScheduleCommands
    backend_jobs: BackendJobs
    lexicons: WorkspaceLexicons
    channels: ConnectedChannels
    public_links: PresignedLinks | None = None  # set with REELFLOW_PUBLIC_S3_URL: assets are redirected there


def gateway_state(connection: HTTPConnection) -> GatewayState:
    """The state of the app serving this request or WebSocket."""
    state: GatewayState = connection.app.state.gateway
    return state


StateDep = Annotated[GatewayState, Depends(gateway_state)]


def _scripts(state: StateDep) -> ScriptCommands:
    return state.scripts


def _jobs(state: StateDep) -> RenderJobCommands:
    return state.jobs


def accounts_of(state: StateDep) -> AccountCommands:
    return state.accounts


def access_of(state: StateDep) -> Access:
    return state.access


ScriptsDep = Annotated[ScriptCommands, Depends(_scripts)]
JobsDep = Annotated[RenderJobCommands, Depends(_jobs)]
AccountsDep = Annotated[AccountCommands, Depends(accounts_of)]
AccessDep = Annotated[Access, Depends(access_of)]


def library_of(state: StateDep) -> VideoLibrary:
    return state.library


LibraryDep = Annotated[VideoLibrary, Depends(library_of)]


def backend_jobs_of(state: StateDep) -> BackendJobs:
    return state.backend_jobs


BackendJobsDep = Annotated[BackendJobs, Depends(backend_jobs_of)]


def webhooks_of(state: StateDep) -> WebhookSubscriptions:
    return state.webhooks


WebhooksDep = Annotated[WebhookSubscriptions, Depends(webhooks_of)]


def schedules_of(state: StateDep) -> ScheduleCommands:
    return state.schedules


SchedulesDep = Annotated[ScheduleCommands, Depends(schedules_of)]


def lexicons_of(state: StateDep) -> WorkspaceLexicons:
    return state.lexicons


LexiconsDep = Annotated[WorkspaceLexicons, Depends(lexicons_of)]


def channels_of(state: StateDep) -> ConnectedChannels:
    return state.channels


ChannelsDep = Annotated[ConnectedChannels, Depends(channels_of)]


# Declared so the OpenAPI document names the three ways in; the Authenticator reads the headers itself.
_API_KEY = HTTPBearer(
    auto_error=False, scheme_name="apiKey", description="An API key: `Authorization: Bearer rf_<id>_<secret>`."
)
_SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="A person's session from POST /api/auth/login; writes also need `X-CSRF-Token`.",
)
_INTERNAL = APIKeyHeader(
    name=INTERNAL_TOKEN_HEADER,
    auto_error=False,
    scheme_name="internalToken",
    description="The Spring backend's shared token (REELFLOW_INTERNAL_TOKEN, or BACKEND_INTERNAL_TOKEN).",
)


async def authenticated_caller(
    connection: HTTPConnection,
    state: StateDep,
    _api_key: Annotated[object, Security(_API_KEY)],
    _session: Annotated[object, Security(_SESSION)],
    _internal: Annotated[object, Security(_INTERNAL)],
) -> Caller:
    """The request's caller, its budget spent."""
    return await caller_of(connection, state)


async def websocket_caller(connection: HTTPConnection, state: StateDep) -> Caller:
    """The caller of a WebSocket handshake (the same credentials; a cookie must come from an allowed origin)."""
    return await caller_of(connection, state)


async def caller_of(connection: HTTPConnection, state: GatewayState) -> Caller:
    websocket = connection.scope["type"] == "websocket"
    method = "GET" if websocket else connection.scope["method"]
    credentials = RequestCredentials(
        headers=connection.headers,
        cookies=connection.cookies,
        method=method,
        websocket=websocket,
        origin_allowed=origin_is_allowed(
            connection.headers.get("origin"), connection.headers.get("host"), state.settings.cors_allow_origins
        ),
    )
    caller = await state.authenticator.caller(credentials)
    await state.authenticator.spend(caller, method)
    return caller


@dataclass(frozen=True)
class ScopeCheck:
    """The dependency behind the scoped aliases: the caller, refused (403) unless it holds ``scope``. A class rather
    than a closure so the scope each route needs can be read off the app's routes (the access tests go through
    every route with a key lacking it)."""

    scope: Scope

    async def __call__(self, caller: Annotated[Caller, Depends(authenticated_caller)]) -> Caller:
        caller.require(self.scope)
        return caller


async def backend_caller(caller: Annotated[Caller, Depends(authenticated_caller)]) -> Caller:
    """The Spring backend: only its ``X-Internal-Token`` opens the compatibility routes (an API key or a person is
    a 403, no credentials or a wrong token a 401)."""
    if caller.kind is not CallerKind.INTERNAL:
        raise ForbiddenError(f"this route is the Spring backend's: send {INTERNAL_TOKEN_HEADER}, not an API key")
    return caller


Reader = Annotated[Caller, Depends(ScopeCheck(Scope.READ))]
ScriptWriter = Annotated[Caller, Depends(ScopeCheck(Scope.SCRIPTS))]
Renderer = Annotated[Caller, Depends(ScopeCheck(Scope.RENDER))]
Uploader = Annotated[Caller, Depends(ScopeCheck(Scope.UPLOADS))]
Publisher = Annotated[Caller, Depends(ScopeCheck(Scope.PUBLISH))]
Admin = Annotated[Caller, Depends(ScopeCheck(Scope.ADMIN))]
SignedInCaller = Annotated[Caller, Depends(authenticated_caller)]
SocketCaller = Annotated[Caller, Depends(websocket_caller)]
BackendCaller = Annotated[Caller, Depends(backend_caller)]
