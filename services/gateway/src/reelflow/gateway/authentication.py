"""Turning a request's credentials into a :class:`Caller`, and spending its rate-limit budget.

Three ways in, tried in this order: the backend's ``X-Internal-Token``, an API key (``Authorization: Bearer
rf_…``), and a person's session cookie. A cookie session must also send its CSRF token on every request that can
change something, and a WebSocket opened with a cookie must come from an allowed origin: a cookie is sent by the
browser whoever made the page, a header is not.
"""

import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from reelflow.gateway.account_store import AccountStore, person_caller
from reelflow.gateway.accounts import Caller, CallerKind, Scope, parse_api_key
from reelflow.gateway.rate_limits import Budget, RateLimiter
from reelflow.gateway.refusals import ForbiddenError, UnauthenticatedError

SESSION_COOKIE = "rf_session"
CSRF_HEADER = "X-CSRF-Token"
INTERNAL_TOKEN_HEADER = "X-Internal-Token"  # noqa: S105 (a header name, not a secret)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
INTERNAL_PRINCIPAL = "internal"
HOW_TO_SIGN_IN = "send `Authorization: Bearer <api key>` or sign in with POST /api/auth/login"


@dataclass(frozen=True)
class Budgets:
    every_request: Budget
    writes: Budget
    sign_ins: Budget


@dataclass(frozen=True)
class RequestCredentials:
    """What a request carries that can identify its caller (headers are looked up case-insensitively)."""

    headers: Mapping[str, str]
    cookies: Mapping[str, str]
    method: str
    websocket: bool = False
    origin_allowed: bool = True


class Authenticator:
    def __init__(
        self,
        accounts: AccountStore,
        limiter: RateLimiter,
        budgets: Budgets,
        *,
        internal_token: str,
        internal_workspace: str,
    ) -> None:
        self._accounts = accounts
        self._limiter = limiter
        self._budgets = budgets
        self._internal_token = internal_token
        self._internal_workspace = internal_workspace

    async def caller(self, credentials: RequestCredentials) -> Caller:
        """Who is calling; an unknown, wrong or expired credential is a 401 that says how to sign in."""
        internal = credentials.headers.get(INTERNAL_TOKEN_HEADER)
        if internal is not None:
            return self._internal(internal)
        authorization = credentials.headers.get("authorization")
        if authorization:
            return await self._api_key(authorization)
        token = credentials.cookies.get(SESSION_COOKIE)
        if token:
            return await self._session(token, credentials)
        raise UnauthenticatedError(f"no credentials: {HOW_TO_SIGN_IN}")

    async def spend(self, caller: Caller, method: str) -> None:
        """Count the request against the caller's budgets (429 when one is spent); the backend's token has none."""
        if caller.kind is CallerKind.INTERNAL:
            return
        await self._limiter.spend(self._budgets.every_request, caller.rate_limit_key)
        if method not in SAFE_METHODS:
            await self._limiter.spend(self._budgets.writes, caller.rate_limit_key)

    async def spend_sign_in(self, client_address: str) -> None:
        await self._limiter.spend(self._budgets.sign_ins, f"address:{client_address}")

    def _internal(self, token: str) -> Caller:
        if not self._internal_token or not hmac.compare_digest(token.encode(), self._internal_token.encode()):
            raise UnauthenticatedError(
                f"{INTERNAL_TOKEN_HEADER} is not the token this gateway was given (REELFLOW_INTERNAL_TOKEN)"
            )
        return Caller(CallerKind.INTERNAL, INTERNAL_PRINCIPAL, self._internal_workspace, frozenset(Scope))

    async def _api_key(self, authorization: str) -> Caller:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise UnauthenticatedError(f"the Authorization header must read `Bearer <api key>`, not {scheme!r}")
        parsed = parse_api_key(value)
        if parsed is None:
            raise UnauthenticatedError("that is not a reelflow API key (they read rf_<id>_<secret>)")
        key = await self._accounts.key_in_use(*parsed)
        if key is None:
            raise UnauthenticatedError("this API key is unknown or was revoked; create another with POST /api/keys")
        return Caller(CallerKind.API_KEY, key.key_id, key.workspace_id, key.scopes, user_id=key.user_id)

    async def _session(self, token: str, credentials: RequestCredentials) -> Caller:
        session = await self._accounts.session(token)
        if session is None:
            raise UnauthenticatedError("your session has ended; sign in again with POST /api/auth/login")
        if credentials.websocket and not credentials.origin_allowed:
            raise ForbiddenError("a WebSocket signed in with a cookie must come from the studio's own origin")
        if credentials.method not in SAFE_METHODS and not credentials.websocket:
            sent = credentials.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                raise ForbiddenError(
                    f"a request signed in with a cookie must send the {CSRF_HEADER} header that sign-in "
                    "(or GET /api/me) returned"
                )
        return person_caller(session.user)


def origin_is_allowed(origin: str | None, host: str | None, allowed_origins: Collection[str]) -> bool:
    """A browser's Origin is the gateway's own host (either scheme) or one the settings allow; no Origin is a
    program, not a page, and is let through."""
    if origin is None:
        return True
    if origin in allowed_origins:
        return True
    return host is not None and origin.split("://", 1)[-1] == host
