"""The credentials every test gateway starts with: an admin (email and password) and that admin's API key.

The session fixture in ``conftest`` puts them in the environment, which every gateway a test starts inherits
(``REELFLOW_ADMIN_*``), and lifts the rate limits out of the way; the tests of auth and limits set their own. The
webhook settings let the tests' receivers on loopback be called back quickly; the backend's internal token opens
the Spring backend's routes (``INTERNAL_HEADERS``).
"""

import base64
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from reelflow.gateway.accounts import DEFAULT_WORKSPACE, Caller, CallerKind, Scope
from reelflow.gateway.api.deps import access_of, authenticated_caller, websocket_caller

ADMIN_API_KEY = "rf_0123456789ab_" + "t" * 32
ADMIN_EMAIL = "admin@reelflow.test"
ADMIN_PASSWORD = "test-admin-password"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_API_KEY}"}
UNLIMITED = "1000000"
# Every test gateway signs job callbacks with this secret, may call back its tests' receivers on 127.0.0.1, and
# retries a failed webhook within a second (the schedule itself is tested on an injected clock); its scheduler looks
# for due items twice a second.
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"reelflow test webhook secret, 32b").decode()
WEBHOOK_RETRY_DELAYS_SEC = "[0, 0.2, 0.5, 1, 60]"
# The Spring backend's X-Internal-Token, given by the bare name its documents use (REELFLOW_INTERNAL_TOKEN, set by
# a test's own gateway, wins over it).
INTERNAL_TOKEN = "internal-token-of-the-session-gateway"
INTERNAL_HEADERS = {"X-Internal-Token": INTERNAL_TOKEN}


def credentials_env() -> dict[str, str]:
    return {
        "REELFLOW_ADMIN_API_KEY": ADMIN_API_KEY,
        "REELFLOW_ADMIN_EMAIL": ADMIN_EMAIL,
        "REELFLOW_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "REELFLOW_RATE_LIMIT_REQUESTS": UNLIMITED,
        "REELFLOW_RATE_LIMIT_WRITES": UNLIMITED,
        "REELFLOW_RATE_LIMIT_SIGN_INS": UNLIMITED,
        "REELFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "REELFLOW_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "REELFLOW_WEBHOOK_RETRY_DELAYS_SEC": WEBHOOK_RETRY_DELAYS_SEC,
        "REELFLOW_WEBHOOK_POLL_SEC": "0.2",
        "REELFLOW_SCHEDULE_POLL_SEC": "0.5",
        "BACKEND_INTERNAL_TOKEN": INTERNAL_TOKEN,
    }


class OpenAccess:
    """Ownership that lets everything through, for unit tests of what a route does after its checks (validation,
    error shapes, uploads); the ownership rules themselves are tested against the real gateway."""

    def __init__(self) -> None:
        self.registry = self

    def __getattr__(self, name: str) -> Callable[..., Awaitable[None]]:
        async def allowed(*args: object, **kwargs: object) -> None:
            return None

        return allowed


ADMIN_CALLER = Caller(CallerKind.API_KEY, "0123456789ab", DEFAULT_WORKSPACE, frozenset(Scope), user_id="admin")


def as_admin_without_accounts(app: FastAPI) -> None:
    """Let every request of ``app`` (a gateway API without its lifespan) in as the admin, owning everything."""
    app.dependency_overrides[authenticated_caller] = lambda: ADMIN_CALLER
    app.dependency_overrides[websocket_caller] = lambda: ADMIN_CALLER
    app.dependency_overrides[access_of] = OpenAccess
