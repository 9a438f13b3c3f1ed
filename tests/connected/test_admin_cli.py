"""`reelflow admin` against a real MongoDB-wire server: the users and keys it makes are the ones the gateway reads."""

import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from reelflow.gateway.account_store import AccountStore
from reelflow.gateway.accounts import Role, parse_api_key, password_matches
from reelflow.local.servers import StackEndpoints

pytestmark = pytest.mark.connected
COMMAND_TIMEOUT_SEC = 60


def reelflow_admin(stack: StackEndpoints, database: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "reelflow.cli.main", "admin", "--mongo-url", stack.mongo_url]
    return subprocess.run(
        [*command, "--mongo-db", database, *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SEC,
        check=False,
    )


async def test_admin_commands_make_users_and_keys_the_gateway_accepts(stack: StackEndpoints, unique_id: str) -> None:
    database = f"admin-cli-{unique_id}"
    made = reelflow_admin(stack, database, "create-user", "Ops@Example.test", "--role", "admin")
    assert made.returncode == 0, made.stderr
    password = re.search(r"password (\S+) \(shown once\)", made.stdout)
    assert password, made.stdout
    again = reelflow_admin(stack, database, "create-user", "ops@example.test")
    assert again.returncode == 1 and "exists already" in again.stderr

    key = reelflow_admin(stack, database, "create-key", "ops@example.test", "--scopes", "read,render")
    assert key.returncode == 0, key.stderr
    parsed = parse_api_key(key.stdout.strip())
    assert parsed is not None, key.stdout
    missing = reelflow_admin(stack, database, "create-key", "nobody@example.test")
    assert missing.returncode == 1 and "no user nobody@example.test" in missing.stderr

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    try:
        store = AccountStore(client, database)
        user = await store.user_by_email("ops@example.test")
        assert user is not None and user.role is Role.ADMIN
        assert password_matches(user.password_hash, password.group(1))
        record = await store.key_in_use(*parsed)
        assert record is not None and sorted(record.scopes) == ["read", "render"]
        await store.open_session(user, "a-session-of-ops", "csrf", timedelta(hours=1))
        assert await store.session("a-session-of-ops") is not None
        reset = reelflow_admin(stack, database, "reset-password", "ops@example.test")
        new_password = re.search(r"new password (\S+)", reset.stdout)
        assert reset.returncode == 0 and new_password, reset.stdout
        changed = await store.user_by_email("ops@example.test")
        assert changed is not None and password_matches(changed.password_hash, new_password.group(1))
        assert not password_matches(changed.password_hash, password.group(1))
        assert await store.session("a-session-of-ops") is None  # whoever knew the old password is signed out
    finally:
        await client.close()
