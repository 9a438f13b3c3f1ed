"""The gateway's calls to Google when a channel is connected: the authorization URL (code flow with PKCE), redeeming
a code or refreshing a pasted token at the token endpoint, and asking the YouTube API which channel a token is for.

Each call has the ``REELFLOW_YOUTUBE_TIMEOUT_SEC`` timeout of the client it is given. Google's errors become typed
refusals: a grant Google refuses (``invalid_grant``) is the caller's to fix (:class:`GrantRefusedError`); anything
else it answers is :class:`YouTubeFailedError` (502), silence or an unreachable host :class:`YouTubeTimeoutError`
(504). Nothing Google sends back is quoted beyond its OAuth error code, and no token ever reaches a message.
"""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
import structlog

from reelflow.gateway.refusals import YouTubeFailedError, YouTubeTimeoutError

log = structlog.get_logger("reelflow.youtube_oauth")
YOUTUBE_SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",
    "https://www.googleapis.com/auth/youtube.readonly",
)


class GrantRefusedError(Exception):
    """Google refused the code or the refresh token (``invalid_grant``: revoked, expired, used, or for another
    client)."""

    def __init__(self, oauth_error: str) -> None:
        super().__init__(oauth_error)
        self.oauth_error = oauth_error


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str
    token_uri: str
    auth_uri: str
    api_url: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None


@dataclass(frozen=True)
class YouTubeChannel:
    channel_id: str
    title: str


def new_code_verifier() -> str:
    """RFC 7636: 43-128 characters of [A-Za-z0-9-._~]; 64 random bytes make 86."""
    return secrets.token_urlsafe(64)


def code_challenge_of(verifier: str) -> str:
    """The S256 challenge: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorization_url(client: OAuthClient, *, redirect_uri: str, state: str, code_verifier: str) -> str:
    """Where a person grants the install's client access to a channel; Google sends them back to ``redirect_uri``
    with ``code`` and ``state``. ``access_type=offline`` and ``prompt=consent`` make it issue a refresh token every
    time, also for a channel that was connected before."""
    query = {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(YOUTUBE_SCOPES),
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": state,
        "code_challenge": code_challenge_of(code_verifier),
        "code_challenge_method": "S256",
    }
    return f"{client.auth_uri}?{urlencode(query)}"


class GoogleOAuth:
    def __init__(self, client: OAuthClient, http: httpx.AsyncClient) -> None:
        self.client = client
        self._http = http

    async def redeem_code(self, code: str, *, code_verifier: str, redirect_uri: str) -> Tokens:
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": redirect_uri,
            }
        )

    async def refresh(self, refresh_token: str) -> Tokens:
        tokens = await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})
        return Tokens(tokens.access_token, tokens.refresh_token or refresh_token)

    async def channel_of(self, access_token: str) -> YouTubeChannel:
        """The channel the token acts for (``channels.list?part=snippet&mine=true``)."""
        url = urljoin(self.client.api_url, "youtube/v3/channels")
        answer = await self._call(
            "the YouTube API (channels.list)",
            lambda: self._http.get(
                url,
                params={"part": "snippet", "mine": "true"},
                headers={"Authorization": f"Bearer {access_token}"},
            ),
        )
        if answer.status_code != 200:
            log.warning("channels.list refused", status=answer.status_code)
            raise YouTubeFailedError(f"the YouTube API answered channels.list with HTTP {answer.status_code}")
        items = _json_of(answer, "channels.list").get("items") or []
        if not items:
            raise YouTubeFailedError(
                "the Google account that granted access has no YouTube channel; create one (or pick the brand "
                "account that owns it when Google asks), then connect again"
            )
        first = items[0]
        try:
            return YouTubeChannel(channel_id=str(first["id"]), title=str((first.get("snippet") or {})["title"]))
        except (KeyError, TypeError) as exc:
            raise YouTubeFailedError("the YouTube API answered channels.list without a channel id and title") from exc

    async def _token(self, form: dict[str, str]) -> Tokens:
        body = {"client_id": self.client.client_id, "client_secret": self.client.client_secret, **form}
        answer = await self._call("Google's token endpoint", lambda: self._http.post(self.client.token_uri, data=body))
        if answer.status_code == 400:
            error = str(_json_of(answer, "the token endpoint", strict=False).get("error") or "invalid_request")
            if error == "invalid_grant":
                raise GrantRefusedError(error)
            raise YouTubeFailedError(
                f"Google's token endpoint refused the request ({error}); check REELFLOW_YOUTUBE_CLIENT_ID, "
                "REELFLOW_YOUTUBE_CLIENT_SECRET and the client's authorized redirect URIs"
            )
        if answer.status_code != 200:
            log.warning("token endpoint failed", status=answer.status_code)
            if answer.status_code == 401:
                raise YouTubeFailedError(
                    "Google's token endpoint does not know this OAuth client (invalid_client); check "
                    "REELFLOW_YOUTUBE_CLIENT_ID and REELFLOW_YOUTUBE_CLIENT_SECRET on the gateway"
                )
            raise YouTubeFailedError(f"Google's token endpoint answered HTTP {answer.status_code}")
        payload = _json_of(answer, "the token endpoint")
        access = payload.get("access_token")
        if not isinstance(access, str) or not access:
            raise YouTubeFailedError("Google's token endpoint answered without an access token")
        refresh = payload.get("refresh_token")
        return Tokens(access, refresh if isinstance(refresh, str) and refresh else None)

    async def _call(self, what: str, send: Any) -> httpx.Response:
        try:
            response: httpx.Response = await send()
        except httpx.TimeoutException as exc:
            raise YouTubeTimeoutError(f"{what} did not answer in time (REELFLOW_YOUTUBE_TIMEOUT_SEC)") from exc
        except httpx.HTTPError as exc:
            log.warning("google unreachable", what=what, error=type(exc).__name__)
            raise YouTubeTimeoutError(f"{what} could not be reached ({type(exc).__name__})") from exc
        return response


def _json_of(answer: httpx.Response, what: str, *, strict: bool = True) -> dict[str, Any]:
    try:
        payload = answer.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        return payload
    if strict:
        raise YouTubeFailedError(f"{what} answered something that is not a JSON object")
    return {}
