"""Accounts: sign in and out, who am I, one's own password, API keys (their owner makes and revokes them), users
(admins only)."""

from typing import Annotated

from fastapi import APIRouter, Cookie, Path, Request, Response

from reelflow.gateway.account_commands import (
    ApiKeyCreated,
    ApiKeyView,
    NewApiKey,
    NewUser,
    PasswordChange,
    SignedIn,
    SignIn,
    UserView,
)
from reelflow.gateway.api.deps import AccountsDep, Admin, SignedInCaller, StateDep
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.authentication import SESSION_COOKIE

router = APIRouter(prefix="/api", tags=["accounts"])
SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False)]


def _cookie_is_secure(request: Request, state: StateDep) -> bool:
    configured = state.settings.session_cookie_secure
    return request.url.scheme == "https" if configured == "auto" else configured == "always"


@router.post(
    "/auth/login",
    operation_id="signIn",
    response_model=SignedIn,
    summary="Sign in with email and password",
    description="Sets the `rf_session` cookie (HttpOnly, SameSite=Lax, Secure over https). Requests made with it "
    "that change something must send the returned `csrf_token` as `X-CSRF-Token`. Sign-in attempts are limited "
    "per address (REELFLOW_RATE_LIMIT_SIGN_INS per window).",
    responses=error_responses({401: "The email or the password is wrong."}),
)
async def sign_in(
    body: SignIn, request: Request, response: Response, accounts: AccountsDep, state: StateDep
) -> SignedIn:
    await state.authenticator.spend_sign_in(request.client.host if request.client else "unknown")
    opened = await accounts.sign_in(body)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=int(state.settings.session_lifetime_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=_cookie_is_secure(request, state),
        path="/",
    )
    return opened.signed_in


@router.post(
    "/auth/logout",
    operation_id="signOut",
    status_code=204,
    summary="Sign out (end this session)",
    responses=error_responses(),
)
async def sign_out(caller: SignedInCaller, accounts: AccountsDep, session: SessionCookie = None) -> Response:
    if session:
        await accounts.sign_out(session)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(
    "/me",
    operation_id="whoAmI",
    response_model=SignedIn,
    summary="The signed-in user and this session's CSRF token",
    description="With an API key, `csrf_token` is empty (keys need none).",
    responses=error_responses({404: "The backend's internal token is not a user."}),
)
async def who_am_i(caller: SignedInCaller, accounts: AccountsDep, session: SessionCookie = None) -> SignedIn:
    return await accounts.whoami(caller, session)


@router.post(
    "/me/password",
    operation_id="changePassword",
    status_code=204,
    summary="Change your own password (signed in); your other sessions end",
    description="Only in a signed-in session (with `X-CSRF-Token`), never with an API key. Attempts count against "
    "the same per-address budget as sign-ins (REELFLOW_RATE_LIMIT_SIGN_INS), so the current password cannot be "
    "guessed through it. Every other session of yours is signed out; this one stays.",
    responses=error_responses(
        {
            403: "Not a signed-in session (an API key or the backend's token).",
            422: "`current_password` is wrong, or `new_password` is too short or the same.",
        }
    ),
)
async def change_password(
    body: PasswordChange,
    request: Request,
    caller: SignedInCaller,
    accounts: AccountsDep,
    state: StateDep,
    session: SessionCookie = None,
) -> Response:
    await state.authenticator.spend_sign_in(request.client.host if request.client else "unknown")
    await accounts.change_password(caller, body, session)
    return Response(status_code=204)


@router.get(
    "/keys",
    operation_id="listApiKeys",
    response_model=list[ApiKeyView],
    summary="List the workspace's API keys (never their secrets)",
    responses=error_responses(),
)
async def list_keys(caller: SignedInCaller, accounts: AccountsDep) -> list[ApiKeyView]:
    return await accounts.keys(caller)


@router.post(
    "/keys",
    operation_id="createApiKey",
    response_model=ApiKeyCreated,
    status_code=201,
    summary="Make an API key with chosen scopes (its secret is shown this once)",
    responses=error_responses({403: "A key cannot hold a scope its maker lacks."}),
)
async def create_key(body: NewApiKey, caller: SignedInCaller, accounts: AccountsDep) -> ApiKeyCreated:
    return await accounts.create_key(caller, body)


@router.delete(
    "/keys/{key_id}",
    operation_id="revokeApiKey",
    status_code=204,
    summary="Revoke an API key of the workspace",
    responses=error_responses({404: "No such key in this workspace."}),
)
async def revoke_key(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")], caller: SignedInCaller, accounts: AccountsDep
) -> Response:
    await accounts.revoke_key(caller, key_id)
    return Response(status_code=204)


@router.get(
    "/users",
    operation_id="listUsers",
    response_model=list[UserView],
    summary="List users (admins)",
    responses=error_responses(),
)
async def list_users(caller: Admin, accounts: AccountsDep) -> list[UserView]:
    return await accounts.users()


@router.post(
    "/users",
    operation_id="createUser",
    response_model=UserView,
    status_code=201,
    summary="Add a user (admins)",
    description="The user gets a workspace of their own unless `workspace_id` names one to join.",
    responses=error_responses({409: "A user with this email exists already."}),
)
async def create_user(body: NewUser, caller: Admin, accounts: AccountsDep) -> UserView:
    return await accounts.create_user(body)
