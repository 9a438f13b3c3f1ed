"""Who is calling: users, roles, API keys and their scopes, and the secrets that prove them (pure, no I/O).

Passwords are hashed with argon2id (argon2-cffi's defaults). API keys and session tokens are long random secrets,
so a SHA-256 of them is enough to store: nothing can be guessed from it, and looking one up stays one indexed read.
An API key reads ``rf_<key id>_<secret>``: the id finds the record, the secret is compared with its hash.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reelflow.gateway.refusals import ForbiddenError

API_KEY_PREFIX = "rf_"
KEY_ID_BYTES = 6
KEY_SECRET_BYTES = 24
API_KEY_PATTERN = re.compile(r"^rf_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{32})$")
# Where a caller's things live when nothing else says: the first admin's workspace, and every document written
# before workspaces existed.
DEFAULT_WORKSPACE = "default"
_PASSWORDS = PasswordHasher()


class Scope(StrEnum):
    """What an API key may do. A signed-in person has every scope but ``admin`` unless they are an admin."""

    READ = "read"
    SCRIPTS = "scripts"
    RENDER = "render"
    UPLOADS = "uploads"
    PUBLISH = "publish"
    ADMIN = "admin"


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


MEMBER_SCOPES = frozenset(Scope) - {Scope.ADMIN}


def scopes_of_role(role: Role) -> frozenset[Scope]:
    return frozenset(Scope) if role is Role.ADMIN else MEMBER_SCOPES


class CallerKind(StrEnum):
    SESSION = "session"
    API_KEY = "api_key"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Caller:
    """An authenticated request's principal: whose workspace it acts in and what it may do there."""

    kind: CallerKind
    principal_id: str  # the user id, the key id, or "internal"
    workspace_id: str
    scopes: frozenset[Scope]
    user_id: str | None = None
    email: str | None = None

    @property
    def rate_limit_key(self) -> str:
        """One budget per key and one per person, whichever way they signed in."""
        owner = self.user_id if self.kind is CallerKind.SESSION else self.principal_id
        return f"{self.kind.value}:{owner}"

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes

    def require(self, scope: Scope) -> None:
        """Refuse (403) unless the caller holds ``scope``."""
        if scope not in self.scopes:
            held = ", ".join(sorted(self.scopes)) or "none"
            raise ForbiddenError(
                f"this needs the `{scope}` scope, and these credentials hold: {held}; use a key with it "
                "(POST /api/keys)",
                details={"needed_scope": scope.value},
            )


@dataclass(frozen=True)
class MintedKey:
    key_id: str
    secret_hash: str
    plaintext: str  # shown to its owner once, never stored


def hash_password(password: str) -> str:
    return _PASSWORDS.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _PASSWORDS.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def digest_matches(stored_digest: str, secret: str) -> bool:
    return hmac.compare_digest(stored_digest, secret_digest(secret))


def mint_api_key() -> MintedKey:
    key_id = secrets.token_hex(KEY_ID_BYTES)
    secret = secrets.token_urlsafe(KEY_SECRET_BYTES)
    return MintedKey(key_id, secret_digest(secret), f"{API_KEY_PREFIX}{key_id}_{secret}")


def parse_api_key(text: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    match = API_KEY_PATTERN.match(text.strip())
    return (match["key_id"], match["secret"]) if match else None


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def new_password() -> str:
    """A password for a first admin nobody chose one for: 20 characters, printed once."""
    return secrets.token_urlsafe(15)
