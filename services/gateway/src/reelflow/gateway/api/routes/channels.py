"""YouTube channel routes: a workspace's connected channels (list, connect with OAuth or a pasted refresh token,
disconnect) and the OAuth callback Google sends the person back to."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import JSONResponse, RedirectResponse

from reelflow.gateway.api.deps import ChannelsDep, Publisher, Reader
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.connected_channels import ChannelView, OAuthStarted, PastedToken
from reelflow.runtime.channel_grants import CHANNEL_ID_PATTERN

router = APIRouter(prefix="/api", tags=["channels"])

ChannelIdPath = Annotated[str, Path(pattern=CHANNEL_ID_PATTERN, description="The YouTube channel id (UC…).")]
AFTER_CONNECT = "/studio/account"
CONNECTED_REDIRECT: dict[int | str, dict[str, Any]] = {
    303: {"description": "Connected; on to the studio's account page."}
}
NOT_CONFIGURED = {
    503: "Connecting channels is off: REELFLOW_CHANNEL_TOKEN_KEY, or the install's OAuth client "
    "(REELFLOW_YOUTUBE_CLIENT_ID and _CLIENT_SECRET), is not set on the gateway (`NOT_CONFIGURED`); or MongoDB, S3 "
    "or NATS cannot be reached (`UNAVAILABLE`)."
}
GOOGLE_FAILED = {
    502: "Google's token endpoint or the YouTube API failed (`YOUTUBE_FAILED`); nothing was stored.",
    504: "Google did not answer within REELFLOW_YOUTUBE_TIMEOUT_SEC (`YOUTUBE_TIMEOUT`); nothing was stored.",
}


@router.get(
    "/channels",
    operation_id="listChannels",
    response_model=list[ChannelView],
    summary="List the workspace's connected YouTube channels (never their tokens)",
    responses=error_responses(),
)
async def list_channels(caller: Reader, channels: ChannelsDep) -> list[ChannelView]:
    return await channels.of_workspace(caller)


@router.post(
    "/channels/oauth/start",
    operation_id="startChannelOAuth",
    response_model=OAuthStarted,
    summary="Start connecting a YouTube channel: the Google consent URL to send the person to",
    description="The authorization code flow with PKCE (S256). Google sends the person back to "
    "`{REELFLOW_PUBLIC_BASE_URL}/api/channels/oauth/callback`, which must be among the OAuth client's authorized "
    "redirect URIs. The flow lasts 10 minutes and is used once.",
    responses=error_responses(NOT_CONFIGURED),
)
async def start_oauth(caller: Publisher, channels: ChannelsDep) -> OAuthStarted:
    return await channels.start_oauth(caller)


@router.get(
    "/channels/oauth/callback",
    operation_id="finishChannelOAuth",
    response_model=ChannelView,
    summary="Where Google sends the person back: redeems the code and stores the channel",
    description="Needs no credentials: the `state` ties it to the workspace that started the flow. Redirects (303) "
    "to the studio's account page, or answers the channel as JSON when `Accept: application/json`. Connecting a "
    "channel the workspace has already replaces its grant.",
    responses=CONNECTED_REDIRECT
    | error_responses(
        {
            400: "The state is unknown, expired or used, or consent was refused (`OAUTH_FAILED`): start again.",
            **GOOGLE_FAILED,
            **NOT_CONFIGURED,
        }
    ),
)
async def finish_oauth(
    channels: ChannelsDep,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=256)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    connected = await channels.finish_oauth(code=code, state=state, error=error)
    if accept is not None and "application/json" in accept:
        return JSONResponse(connected.model_dump(mode="json"))
    return RedirectResponse(AFTER_CONNECT, status_code=303)


@router.post(
    "/channels",
    operation_id="connectChannelWithRefreshToken",
    response_model=ChannelView,
    status_code=201,
    summary="Connect a YouTube channel with a pasted refresh token (headless installs)",
    description="The token is refreshed once to prove it works, then the YouTube API is asked which channel it "
    "acts for. Connecting a channel the workspace has already replaces its grant.",
    responses=error_responses(
        {
            422: "Google refused the refresh token (`refresh_token`): revoked, expired, or another client's.",
            **GOOGLE_FAILED,
            **NOT_CONFIGURED,
        }
    ),
)
async def connect_pasted(body: PastedToken, caller: Publisher, channels: ChannelsDep) -> ChannelView:
    return await channels.connect_pasted(caller, body)


@router.delete(
    "/channels/{channel_id}",
    operation_id="disconnectChannel",
    status_code=204,
    summary="Disconnect a YouTube channel: its grant is deleted; jobs still naming it fail at publish",
    responses=error_responses({404: "No such connected channel in this workspace."}),
)
async def disconnect(channel_id: ChannelIdPath, caller: Publisher, channels: ChannelsDep) -> Response:
    await channels.disconnect(caller, channel_id)
    return Response(status_code=204)
