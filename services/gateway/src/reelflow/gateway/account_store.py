"""MongoDB persistence of accounts: users, their sign-in sessions and their API keys (secrets stored hashed)."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from reelflow.gateway.accounts import (
    Caller,
    CallerKind,
    MintedKey,
    Role,
    Scope,
    digest_matches,
    scopes_of_role,
    secret_digest,
)
from reelflow.gateway.refusals import ConflictError
from reelflow.gateway.stored_times import epoch_now, required_time_of, time_of

Document = dict[str, Any]
# A key's last use is written at most this often, not on every call.
LAST_USE_RESOLUTION_SEC = 60.0


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    email: str
    role: Role
    workspace_id: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True)
class SessionRecord:
    user: UserRecord
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    name: str
    scopes: frozenset[Scope]
    user_id: str
    workspace_id: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def person_caller(user: UserRecord) -> Caller:
    """A person acting as themselves (signed in): their workspace, and the scopes of their role."""
    return Caller(
        CallerKind.SESSION,
        user.user_id,
        user.workspace_id,
        scopes_of_role(user.role),
        user_id=user.user_id,
        email=user.email,
    )


def normalised_email(email: str) -> str:
    return email.strip().lower()


def _user(document: Document) -> UserRecord:
    return UserRecord(
        user_id=document["_id"],
        email=document["email"],
        role=Role(document["role"]),
        workspace_id=document["workspace_id"],
        password_hash=document["password_hash"],
        created_at=required_time_of(document["created_at"]),
    )


def _key(document: Document) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=document["_id"],
        name=document["name"],
        scopes=frozenset(Scope(scope) for scope in document["scopes"]),
        user_id=document["user_id"],
        workspace_id=document["workspace_id"],
        created_at=required_time_of(document["created_at"]),
        last_used_at=time_of(document.get("last_used_at")),
        revoked_at=time_of(document.get("revoked_at")),
    )


class AccountStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        db = client[database]
        self._users = db["users"]
        self._sessions = db["sessions"]
        self._keys = db["api_keys"]

    async def ensure_indexes(self) -> None:
        await self._users.create_index("email", unique=True)
        await self._keys.create_index("workspace_id")
        await self._sessions.create_index("expires_at")

    # ---- users ------------------------------------------------------------------------------------------------

    async def has_users(self) -> bool:
        return await self._users.find_one({}, {"_id": 1}) is not None

    async def create_user(
        self, email: str, password_hash: str, role: Role, *, workspace_id: str | None = None
    ) -> UserRecord:
        """A new user, in a workspace of their own unless one is named; an email already taken is a conflict."""
        user_id = uuid.uuid4().hex
        document = {
            "_id": user_id,
            "email": normalised_email(email),
            "role": role.value,
            "workspace_id": workspace_id or f"ws-{user_id[:12]}",
            "password_hash": password_hash,
            "created_at": epoch_now(),
        }
        try:
            await self._users.insert_one(document)
        except DuplicateKeyError:
            raise ConflictError(f"a user with the email {normalised_email(email)!r} exists already") from None
        return _user(document)

    async def user_by_email(self, email: str) -> UserRecord | None:
        document = await self._users.find_one({"email": normalised_email(email)})
        return _user(document) if document else None

    async def user(self, user_id: str) -> UserRecord | None:
        document = await self._users.find_one({"_id": user_id})
        return _user(document) if document else None

    async def users(self, limit: int = 200) -> list[UserRecord]:
        return [_user(document) async for document in self._users.find({}).sort("created_at", 1).limit(limit)]

    async def set_password(self, user_id: str, password_hash: str, *, keeping_session: str | None = None) -> None:
        """Replace the user's password and end every session of theirs but ``keeping_session`` (the one that
        changed it): whoever knew the old password is signed out."""
        await self._users.update_one({"_id": user_id}, {"$set": {"password_hash": password_hash}})
        kept = {"_id": {"$ne": secret_digest(keeping_session)}} if keeping_session else {}
        await self._sessions.delete_many({"user_id": user_id, **kept})

    # ---- sessions -----------------------------------------------------------------------------------------------

    async def open_session(self, user: UserRecord, token: str, csrf_token: str, lifetime: timedelta) -> None:
        now = epoch_now()
        await self._sessions.insert_one(
            {
                "_id": secret_digest(token),
                "user_id": user.user_id,
                "csrf_token": csrf_token,
                "created_at": now,
                "expires_at": now + lifetime.total_seconds(),
            }
        )
        await self._sessions.delete_many({"expires_at": {"$lt": now}})

    async def session(self, token: str) -> SessionRecord | None:
        document = await self._sessions.find_one({"_id": secret_digest(token)})
        if document is None or document["expires_at"] <= epoch_now():
            return None
        user = await self.user(document["user_id"])
        return SessionRecord(user, document["csrf_token"], required_time_of(document["expires_at"])) if user else None

    async def close_session(self, token: str) -> None:
        await self._sessions.delete_one({"_id": secret_digest(token)})

    # ---- API keys -----------------------------------------------------------------------------------------------

    async def add_key(self, minted: MintedKey, name: str, scopes: Iterable[Scope], owner: UserRecord) -> ApiKeyRecord:
        document = {
            "_id": minted.key_id,
            "secret_hash": minted.secret_hash,
            "name": name,
            "scopes": sorted(scope.value for scope in scopes),
            "user_id": owner.user_id,
            "workspace_id": owner.workspace_id,
            "created_at": epoch_now(),
            "last_used_at": None,
            "revoked_at": None,
        }
        try:
            await self._keys.insert_one(document)
        except DuplicateKeyError:
            raise ConflictError(f"an API key with the id {minted.key_id} exists already") from None
        return _key(document)

    async def key_in_use(self, key_id: str, secret: str) -> ApiKeyRecord | None:
        """The key whose id and secret these are, unless it is revoked; its last use is noted."""
        document = await self._keys.find_one({"_id": key_id})
        if document is None or document.get("revoked_at") or not digest_matches(document["secret_hash"], secret):
            return None
        now = epoch_now()
        last_used = document.get("last_used_at")
        if not isinstance(last_used, float) or now - last_used > LAST_USE_RESOLUTION_SEC:
            await self._keys.update_one({"_id": key_id}, {"$set": {"last_used_at": now}})
        return _key(document)

    async def key_exists(self, key_id: str) -> bool:
        return await self._keys.find_one({"_id": key_id}, {"_id": 1}) is not None

    async def keys(self, workspace_id: str, user_id: str | None) -> list[ApiKeyRecord]:
        """The workspace's keys; only ``user_id``'s when one is named."""
        owner = {"user_id": user_id} if user_id else {}
        found = self._keys.find({"workspace_id": workspace_id, **owner}).sort("created_at", -1).limit(500)
        return [_key(document) async for document in found]

    async def revoke_key(self, key_id: str, workspace_id: str, user_id: str | None) -> bool:
        owner = {"user_id": user_id} if user_id else {}
        result = await self._keys.update_one(
            {"_id": key_id, "workspace_id": workspace_id, **owner}, {"$set": {"revoked_at": epoch_now()}}
        )
        return result.matched_count > 0
