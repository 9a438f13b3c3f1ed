"""What people and admins do with accounts: sign in and out, make and revoke API keys, add users, and the first
admin that a fresh install starts with."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from pydantic import Field

from reelflow.contracts._base import Contract
from reelflow.gateway.account_store import AccountStore, ApiKeyRecord, UserRecord
from reelflow.gateway.accounts import (
    DEFAULT_WORKSPACE,
    Caller,
    CallerKind,
    MintedKey,
    Role,
    Scope,
    hash_password,
    mint_api_key,
    new_csrf_token,
    new_password,
    new_session_token,
    parse_api_key,
    password_matches,
    secret_digest,
)
from reelflow.gateway.refusals import (
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    UnauthenticatedError,
)
from reelflow.gateway.request_bodies import RequestBody

log = structlog.get_logger("reelflow.gateway.accounts")
MIN_PASSWORD_CHARS = 10
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
# Checked when the email is unknown, so a wrong email costs as long as a wrong password and reveals nothing.
_UNKNOWN_USER_HASH = hash_password(new_password())


class SignIn(RequestBody):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class NewUser(RequestBody):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=1024)
    role: Role = Role.MEMBER
    workspace_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="Join an existing workspace; a new one of the user's own when unset.",
    )


class PasswordChange(RequestBody):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=1024)


class NewApiKey(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, description="read, scripts, render, uploads, publish, admin.")


class UserView(Contract):
    user_id: str
    email: str
    role: Role
    workspace_id: str
    created_at: datetime


class SignedIn(Contract):
    user: UserView
    csrf_token: str = Field(description="Send it as `X-CSRF-Token` on every POST/PUT/PATCH/DELETE of this session.")


class ApiKeyView(Contract):
    key_id: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyView):
    secret: str = Field(description="The whole key, shown this once: send it as `Authorization: Bearer <secret>`.")


@dataclass(frozen=True)
class OpenedSession:
    token: str
    signed_in: SignedIn


@dataclass(frozen=True)
class FirstAdmin:
    email: str
    password: str | None  # set when it was made up here and must be shown to someone once


def user_view(user: UserRecord) -> UserView:
    return UserView(
        user_id=user.user_id,
        email=user.email,
        role=user.role,
        workspace_id=user.workspace_id,
        created_at=user.created_at,
    )


def key_view(key: ApiKeyRecord) -> ApiKeyView:
    return ApiKeyView(
        key_id=key.key_id,
        name=key.name,
        scopes=sorted(key.scopes),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def _unless_admin(caller: Caller) -> str | None:
    """Whose keys the caller may see and revoke: its own user's, or (an admin) every key of the workspace."""
    return None if caller.may(Scope.ADMIN) else (caller.user_id or caller.principal_id)


class AccountCommands:
    def __init__(self, accounts: AccountStore, *, session_lifetime: timedelta) -> None:
        self._accounts = accounts
        self._session_lifetime = session_lifetime

    async def sign_in(self, body: SignIn) -> OpenedSession:
        user = await self._accounts.user_by_email(body.email)
        matches = password_matches(user.password_hash if user else _UNKNOWN_USER_HASH, body.password)
        if user is None or not matches:
            raise UnauthenticatedError("the email or the password is wrong")
        token, csrf = new_session_token(), new_csrf_token()
        await self._accounts.open_session(user, token, csrf, self._session_lifetime)
        return OpenedSession(token, SignedIn(user=user_view(user), csrf_token=csrf))

    async def sign_out(self, token: str) -> None:
        await self._accounts.close_session(token)

    async def whoami(self, caller: Caller, session_token: str | None) -> SignedIn:
        user = await self._accounts.user(caller.user_id) if caller.user_id else None
        if user is None:
            raise NotFoundError("this caller is not a user (the backend's internal token)")
        session = await self._accounts.session(session_token) if session_token else None
        return SignedIn(user=user_view(user), csrf_token=session.csrf_token if session else "")

    async def change_password(self, caller: Caller, body: PasswordChange, session_token: str | None) -> None:
        """A person's own password, changed in a session of theirs (not with an API key, so a leaked key cannot take
        the account over); their other sessions end. The current password must be given, and the new one differ."""
        session = await self._accounts.session(session_token) if session_token else None
        if caller.kind is not CallerKind.SESSION or session is None or session.user.user_id != caller.user_id:
            raise ForbiddenError("a password is changed signed in (POST /api/auth/login), not with a key or a token")
        if not password_matches(session.user.password_hash, body.current_password):
            wrong = "is not your password; type the one you sign in with"
            raise InvalidRequestError.of([{"field": "current_password", "problem": wrong}])
        if body.new_password == body.current_password:
            same = "is your current password; choose a new one"
            raise InvalidRequestError.of([{"field": "new_password", "problem": same}])
        await self._accounts.set_password(
            session.user.user_id, hash_password(body.new_password), keeping_session=session_token
        )
        log.info("password changed", user_id=session.user.user_id)

    async def create_key(self, caller: Caller, body: NewApiKey) -> ApiKeyCreated:
        owner = await self._owner(caller)
        wanted = frozenset(body.scopes)
        if not wanted <= caller.scopes:
            beyond = ", ".join(sorted(wanted - caller.scopes))
            raise ForbiddenError(f"a key cannot have scopes its maker lacks: {beyond}")
        minted = mint_api_key()
        record = await self._accounts.add_key(minted, body.name, wanted, owner)
        return ApiKeyCreated(**key_view(record).model_dump(), secret=minted.plaintext)

    async def keys(self, caller: Caller) -> list[ApiKeyView]:
        """An admin sees the workspace's keys; anyone else their own."""
        keys = await self._accounts.keys(caller.workspace_id, _unless_admin(caller))
        return [key_view(key) for key in keys]

    async def revoke_key(self, caller: Caller, key_id: str) -> None:
        if not await self._accounts.revoke_key(key_id, caller.workspace_id, _unless_admin(caller)):
            raise NotFoundError(f"no API key {key_id}")

    async def create_user(self, body: NewUser) -> UserView:
        user = await self._accounts.create_user(
            body.email, hash_password(body.password), body.role, workspace_id=body.workspace_id
        )
        return user_view(user)

    async def users(self) -> list[UserView]:
        return [user_view(user) for user in await self._accounts.users()]

    async def ensure_first_admin(self, email: str, password: str, api_key: str) -> FirstAdmin | None:
        """On a fresh install (no users), an admin in the default workspace: with ``password`` when one is set,
        else a made-up one the caller must show once. ``api_key`` (``rf_…``), when given, is made that admin's
        key with every scope unless a key with its id exists. None when there were users already."""
        admin: UserRecord | None = None
        made: FirstAdmin | None = None
        if not await self._accounts.has_users():
            chosen = password or new_password()
            try:
                admin = await self._accounts.create_user(
                    email, hash_password(chosen), Role.ADMIN, workspace_id=DEFAULT_WORKSPACE
                )
                made = FirstAdmin(admin.email, None if password else chosen)
            except ConflictError:  # another replica made it at the same moment
                admin = None
        if api_key:
            await self._ensure_admin_key(email, api_key, admin)
        return made

    async def _ensure_admin_key(self, email: str, api_key: str, admin: UserRecord | None) -> None:
        parsed = parse_api_key(api_key)
        if parsed is None:
            raise InvalidRequestError.of(
                [{"field": "REELFLOW_ADMIN_API_KEY", "problem": "not a reelflow API key (rf_<12 hex>_<32 chars>)"}]
            )
        key_id, secret = parsed
        if await self._accounts.key_exists(key_id):
            return
        owner = admin or await self._accounts.user_by_email(email)
        if owner is None:
            log.warning("REELFLOW_ADMIN_API_KEY is set but there is no user with REELFLOW_ADMIN_EMAIL", email=email)
            return
        minted = MintedKey(key_id=key_id, secret_hash=secret_digest(secret), plaintext=api_key)
        try:
            await self._accounts.add_key(minted, "admin (from settings)", frozenset(Scope), owner)
        except ConflictError:
            return

    async def _owner(self, caller: Caller) -> UserRecord:
        user = await self._accounts.user(caller.user_id) if caller.user_id else None
        if user is None:
            raise ForbiddenError("API keys belong to users; the backend's internal token cannot make them")
        return user
