"""`reelflow admin`: make users and API keys, and reset passwords, straight in the gateway's MongoDB.

For the first steps of an install and for an admin locked out of the studio; everything else is done in the studio
or through the API. It reads the gateway's settings (REELFLOW_MONGO_URL, REELFLOW_MONGO_DB) unless told otherwise.
"""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reelflow.gateway.account_store import AccountStore, UserRecord

MONGO_TIMEOUT_MS = 5000
ROLES = ("member", "admin")  # reelflow.gateway.accounts.Role, spelled out so the parser imports nothing heavy
Action = Callable[["AccountStore", argparse.Namespace], Awaitable[str]]


def add_admin_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    admin = commands.add_parser("admin", help="make users and API keys, reset a password (straight in MongoDB)")
    admin.add_argument("--mongo-url", help="default: $REELFLOW_MONGO_URL, else mongodb://127.0.0.1:27017")
    admin.add_argument("--mongo-db", help="default: $REELFLOW_MONGO_DB, else reelflow")
    actions = admin.add_subparsers(dest="admin_command", required=True)

    user = actions.add_parser("create-user", help="add a user; their password is made up and shown once unless given")
    user.add_argument("email")
    user.add_argument("--role", choices=ROLES, default=ROLES[0])
    user.add_argument("--workspace", help="join this workspace (default: one of their own; `default` is the first)")
    user.add_argument("--password", help="at least 10 characters (default: made up and shown once)")
    user.set_defaults(run=lambda args: _run(args, _create_user))

    key = actions.add_parser("create-key", help="make an API key for a user; it is shown once")
    key.add_argument("email")
    key.add_argument("--name", default="made with reelflow admin")
    key.add_argument("--scopes", default="read,scripts,render,uploads", help="comma-separated (default: %(default)s)")
    key.set_defaults(run=lambda args: _run(args, _create_key))

    password = actions.add_parser(
        "reset-password", help="give a user a new password (made up and shown once) and sign them out everywhere"
    )
    password.add_argument("email")
    password.set_defaults(run=lambda args: _run(args, _reset_password))


def _run(args: argparse.Namespace, action: Action) -> int:
    # Imported here: MongoDB's client and the gateway's settings are this command's, not every command's.
    from pymongo import AsyncMongoClient

    from reelflow.gateway.account_store import AccountStore
    from reelflow.gateway.refusals import GatewayError
    from reelflow.gateway.settings import GatewaySettings

    settings = GatewaySettings()
    url = args.mongo_url or settings.mongo_url
    database = args.mongo_db or settings.mongo_db

    async def run() -> str:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, tz_aware=True, serverSelectionTimeoutMS=MONGO_TIMEOUT_MS, connectTimeoutMS=MONGO_TIMEOUT_MS
        )
        try:
            store = AccountStore(client, database)
            await store.ensure_indexes()
            return await action(store, args)
        finally:
            await client.close()

    try:
        print(asyncio.run(run()))
    except GatewayError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    return 0


async def _user(store: "AccountStore", email: str) -> "UserRecord":
    from reelflow.gateway.refusals import NotFoundError

    user = await store.user_by_email(email)
    if user is None:
        raise NotFoundError(f"no user {email}; make one with `reelflow admin create-user`")
    return user


async def _create_user(store: "AccountStore", args: argparse.Namespace) -> str:
    from reelflow.gateway.account_commands import AccountCommands, NewUser
    from reelflow.gateway.accounts import Role, new_password

    password = args.password or new_password()
    body = NewUser(email=args.email, password=password, role=Role(args.role), workspace_id=args.workspace)
    made = await AccountCommands(store, session_lifetime=timedelta(hours=1)).create_user(body)
    shown = "" if args.password else f" password {password} (shown once)"
    return f"user {made.email} ({made.role}, workspace {made.workspace_id}){shown}"


async def _create_key(store: "AccountStore", args: argparse.Namespace) -> str:
    from reelflow.gateway.account_commands import AccountCommands, NewApiKey
    from reelflow.gateway.account_store import person_caller
    from reelflow.gateway.accounts import Scope

    user = await _user(store, args.email)
    owner = person_caller(user)
    scopes = [Scope(scope.strip()) for scope in args.scopes.split(",") if scope.strip()]
    created = await AccountCommands(store, session_lifetime=timedelta(hours=1)).create_key(
        owner, NewApiKey(name=args.name, scopes=scopes)
    )
    return created.secret


async def _reset_password(store: "AccountStore", args: argparse.Namespace) -> str:
    from reelflow.gateway.accounts import hash_password, new_password

    user = await _user(store, args.email)
    password = new_password()
    await store.set_password(user.user_id, hash_password(password))
    return f"user {user.email}: new password {password} (shown once; their sessions were signed out)"
