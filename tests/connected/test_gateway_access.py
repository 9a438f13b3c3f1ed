"""Who may do what, against the real gateway: credentials (401), scopes (403), workspaces (404), CSRF on cookie
sessions, API keys made and revoked by their owner, the backend's internal token, and rate limits that two
gateway replicas share (429 with Retry-After)."""

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_EMAIL, ADMIN_HEADERS, ADMIN_PASSWORD
from tests.gateway_jobs import TINY_RENDER, approved_script, wait_for_job
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from reelflow.gateway.accounts import Scope
from reelflow.gateway.api.deps import ScopeCheck
from reelflow.gateway.app import build_api
from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.servers import EmbeddedStack, StackEndpoints
from reelflow.local.workers import WorkerGroup

pytestmark = pytest.mark.connected

# Routes anyone may call: probes, metrics, the API's own description, and signing in.
# The OAuth callback takes no credentials: Google sends the person's browser there, and its single-use `state` is
# what ties it to a workspace (tests/connected/test_gateway_channels.py).
OAUTH_CALLBACK = "/api/channels/oauth/callback"
PUBLIC_PATHS = {"/healthz", "/readyz", "/metrics", "/api/auth/login", OAUTH_CALLBACK}
PATH_VALUES = {
    "video_id": "access-video",
    "script_id": "0" * 32,
    "job_id": "0" * 32,
    "kind": "video",
    "version": "1",
    "key_id": "0123456789ab",
    "comment_id": "0" * 32,
    "subscription_id": "wh_" + "0" * 24,
    "schedule_id": "sch_" + "0" * 24,
    "channel_id": "UC" + "0" * 22,
}
LESSON = {"source_text": "# Lifting\n\nBend your knees and keep your back straight.", "options": {"language": "en"}}
INTERNAL_TOKEN = "internal-token-for-the-access-tests"
WRITES_PER_WINDOW = 4
SIGN_INS_PER_WINDOW = 3
LONG_WINDOW_SEC = 3600


def guarded_paths() -> list[tuple[str, str]]:
    """(method, path template) of every API route that needs credentials, from the OpenAPI document, which lists
    every route the gateway serves."""
    paths: dict[str, dict[str, Any]] = build_api().openapi()["paths"]
    return [
        (method.upper(), path)
        for path, operations in sorted(paths.items())
        if path.startswith("/api/") and path not in PUBLIC_PATHS
        for method in sorted(operations)
    ]


def guarded_routes() -> list[tuple[str, str]]:
    """As :func:`guarded_paths`, with the path parameters filled (with ids nothing has)."""
    return [(method, path.format(**PATH_VALUES)) for method, path in guarded_paths()]


@pytest.fixture
async def anonymous(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services.gateway_url, timeout=30) as client:
        yield client


@pytest.fixture
async def admin(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


async def signed_in(gateway_url: str, email: str, password: str) -> httpx.AsyncClient:
    """A client holding a session cookie, sending its CSRF token on every request."""
    client = httpx.AsyncClient(base_url=gateway_url, timeout=30)
    answer = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    assert "httponly" in answer.headers["set-cookie"].lower() and "samesite=lax" in answer.headers["set-cookie"].lower()
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


async def new_member(admin: httpx.AsyncClient, unique_id: str) -> tuple[str, str]:
    email, password = f"member-{unique_id}@reelflow.test", f"password-{unique_id}"
    made = await admin.post("/api/users", json={"email": email, "password": password})
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "member" and made.json()["workspace_id"] != "default"
    return email, password


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_every_api_route_refuses_a_caller_without_credentials(anonymous: httpx.AsyncClient) -> None:
    routes = guarded_routes()
    assert len(routes) > 20, routes
    answered = {}
    for method, path in routes:
        response = await anonymous.request(method, path, json={})
        code = "UNAUTHENTICATED" if method == "HEAD" else response.json()["error"]["code"]  # HEAD: no body
        answered[(method, path)] = (response.status_code, code)
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), (method, path)
    assert set(answered.values()) == {(401, "UNAUTHENTICATED")}, answered
    # Without a state it issued, the callback does nothing for an anonymous caller either.
    callback = await anonymous.get(OAUTH_CALLBACK, params={"code": "a-code", "state": "never-issued"})
    assert callback.status_code in (400, 503), callback.text


async def test_wrong_or_revoked_credentials_are_refused_saying_why(anonymous: httpx.AsyncClient) -> None:
    answers = [
        await anonymous.get("/api/keys", headers={"Authorization": "Basic abc"}),
        await anonymous.get("/api/keys", headers={"Authorization": "Bearer not-a-key"}),
        await anonymous.get("/api/keys", headers={"Authorization": f"Bearer rf_ffffffffffff_{'x' * 32}"}),
        await anonymous.get("/api/keys", headers={"Cookie": "rf_session=expired-or-made-up"}),
        await anonymous.get("/api/keys", headers={"X-Internal-Token": "guess"}),
    ]
    assert [answer.status_code for answer in answers] == [401] * 5
    messages = [answer.json()["error"]["message"] for answer in answers]
    assert "Bearer <api key>" in messages[0] and "rf_<id>_<secret>" in messages[1]
    assert "revoked" in messages[2] and "sign in again" in messages[3] and "REELFLOW_INTERNAL_TOKEN" in messages[4]


async def test_a_key_without_the_scope_is_forbidden_and_one_with_it_is_let_in(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    created = await admin.post("/api/keys", json={"name": "reader", "scopes": ["read"]})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert secret.startswith("rf_") and created.json()["scopes"] == ["read"]
    listed = (await admin.get("/api/keys")).json()
    assert any(key["key_id"] == created.json()["key_id"] for key in listed)
    assert all("secret" not in key for key in listed)

    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=headers, timeout=30) as reader:
        refused = await reader.post(f"/api/videos/scoped-{unique_id}/scripts/generate", json=LESSON)
        assert refused.status_code == 403, refused.text
        assert error_code(refused) == "FORBIDDEN" and refused.json()["error"]["details"]["needed_scope"] == "scripts"
        assert (await reader.get(f"/api/videos/scoped-{unique_id}/scripts")).status_code == 200
        beyond = await reader.post("/api/keys", json={"name": "escalate", "scopes": ["read", "admin"]})
        assert beyond.status_code == 403 and "admin" in beyond.json()["error"]["message"]
        assert (await reader.get("/api/users")).status_code == 403

    assert (await admin.delete(f"/api/keys/{created.json()['key_id']}")).status_code == 204
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=headers, timeout=30) as revoked:
        assert (await revoked.get(f"/api/videos/scoped-{unique_id}/scripts")).status_code == 401


async def test_another_workspace_sees_nothing_of_a_video_and_cannot_take_its_id(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    video_id = f"owned-{unique_id}"
    accepted = await admin.post(f"/api/videos/{video_id}/scripts/generate", json=LESSON)
    assert accepted.status_code == 202, accepted.text
    script_id = accepted.json()["script_id"]

    email, password = await new_member(admin, unique_id)
    member = await signed_in(services.gateway_url, email, password)
    try:
        me = (await member.get("/api/me")).json()
        assert me["user"]["email"] == email and me["csrf_token"] == member.headers["X-CSRF-Token"]
        hidden = [
            await member.get(f"/api/scripts/{script_id}"),
            await member.get(f"/api/scripts/{script_id}/versions"),
            await member.post(f"/api/scripts/{script_id}/approve"),
            await member.get(f"/api/videos/{video_id}/scripts"),
            await member.get(f"/api/videos/{video_id}/render-jobs"),
            await member.post(f"/api/videos/{video_id}/render-jobs", json={"script_id": script_id}),
        ]
        assert [(answer.status_code, error_code(answer)) for answer in hidden] == [(404, "NOT_FOUND")] * 6
        taken = await member.post(f"/api/videos/{video_id}/scripts/generate", json=LESSON)
        assert taken.status_code == 409 and "taken" in taken.json()["error"]["message"]
        own = await member.post(f"/api/videos/mine-{unique_id}/scripts/generate", json=LESSON)
        assert own.status_code == 202, own.text
        assert (await admin.get(f"/api/scripts/{own.json()['script_id']}")).status_code == 404
    finally:
        await member.aclose()


async def test_a_cookie_session_needs_its_csrf_token_to_change_anything_and_ends_at_sign_out(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    email, password = await new_member(admin, unique_id)
    member = await signed_in(services.gateway_url, email, password)
    try:
        csrf = member.headers.pop("X-CSRF-Token")
        without = await member.post(f"/api/videos/csrf-{unique_id}/scripts/generate", json=LESSON)
        assert without.status_code == 403 and "X-CSRF-Token" in without.json()["error"]["message"]
        assert (await member.get(f"/api/videos/csrf-{unique_id}/scripts")).status_code in (200, 404)
        member.headers["X-CSRF-Token"] = csrf
        key = await member.post("/api/keys", json={"name": "mine", "scopes": ["read"]})
        assert key.status_code == 201, key.text
        assert (await member.post("/api/auth/logout")).status_code == 204
        assert (await member.get("/api/me")).status_code == 401
    finally:
        await member.aclose()
    wrong = await admin.post("/api/auth/login", json={"email": email, "password": "not-the-password"})
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "the email or the password is wrong"
    nobody = await admin.post("/api/auth/login", json={"email": f"nobody-{unique_id}@x.test", "password": "x"})
    assert nobody.json()["error"]["message"] == wrong.json()["error"]["message"]


async def test_the_test_admin_can_sign_in_with_the_password_it_was_given(services: RunningServices) -> None:
    client = await signed_in(services.gateway_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        me = (await client.get("/api/me")).json()
        assert (me["user"]["role"], me["user"]["workspace_id"]) == ("admin", "default")
        assert (await client.get("/api/users")).status_code == 200
    finally:
        await client.aclose()


async def test_a_person_changes_their_password_in_a_session_and_their_other_sessions_end(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    email, password = await new_member(admin, unique_id)
    new_password = f"changed-{unique_id}"
    here = await signed_in(services.gateway_url, email, password)
    elsewhere = await signed_in(services.gateway_url, email, password)
    try:
        key = await here.post("/api/keys", json={"name": "mine", "scopes": ["read"]})
        with_key = {"Authorization": f"Bearer {key.json()['secret']}"}
        by_key = await admin.post(
            "/api/me/password",
            json={"current_password": password, "new_password": new_password},
            headers=with_key,
        )
        assert by_key.status_code == 403 and "signed in" in by_key.json()["error"]["message"], by_key.text

        refused = [
            await here.post("/api/me/password", json={"current_password": "wrong", "new_password": new_password}),
            await here.post("/api/me/password", json={"current_password": password, "new_password": "short"}),
            await here.post("/api/me/password", json={"current_password": password, "new_password": password}),
        ]
        fields = [[problem["field"] for problem in answer.json()["error"]["details"]["problems"]] for answer in refused]
        assert [answer.status_code for answer in refused] == [422] * 3, [answer.text for answer in refused]
        assert fields == [["current_password"], ["new_password"], ["new_password"]]
        assert (await elsewhere.get("/api/me")).status_code == 200  # nothing changed yet

        changed = await here.post("/api/me/password", json={"current_password": password, "new_password": new_password})
        assert changed.status_code == 204, changed.text
        assert (await here.get("/api/me")).status_code == 200  # the session that changed it stays
        assert (await elsewhere.get("/api/me")).status_code == 401  # every other one ended
        assert (await admin.get("/api/me", headers=with_key)).status_code == 200  # keys are not sessions
        old = await admin.post("/api/auth/login", json={"email": email, "password": password})
        assert old.status_code == 401
        async with httpx.AsyncClient(base_url=services.gateway_url, timeout=30) as browser:
            signed = await browser.post("/api/auth/login", json={"email": email, "password": new_password})
            assert signed.status_code == 200, signed.text
    finally:
        await here.aclose()
        await elsewhere.aclose()


# ---- every route: a key lacking its scope (403), another workspace's ids (404) -----------------------------------
# Routes that act on the caller alone ask for credentials and no scope; each says why here, so a route that forgot
# its scope cannot pass for one of them.
NEEDS_ONLY_CREDENTIALS = {
    ("POST", "/api/auth/logout"): "ends the caller's own session",
    ("GET", "/api/me"): "says who the caller is",
    ("POST", "/api/me/password"): "changes the caller's own password (a signed-in person only, tested above)",
    ("GET", "/api/keys"): "lists the caller's own keys (an admin's: the workspace's)",
    ("POST", "/api/keys"): "a new key holds no scope its maker lacks (refused 403 otherwise, tested above)",
    ("DELETE", "/api/keys/{key_id}"): "revokes one of the caller's own keys (an admin's: the workspace's)",
}
A_SCHEDULE = {
    "name": "access",
    "items": [{"title": "Lifting", "source_text": "Bend your knees.", "due_at": "2199-01-01T09:00"}],
}
A_PUBLISH_TARGET = {"title": "Lifting"}


@dataclass(frozen=True)
class NeededScope:
    """A request to ``method path`` (its parameters filled with PATH_VALUES) with ``body``, which needs ``scope``;
    a route asks for each scope once, so the first three tell the cases apart."""

    method: str
    path: str
    scope: Scope
    body: dict[str, Any] = field(compare=False)


# Scopes routes ask for in their own code (``caller.require``), which their dependencies do not show: always (the
# body is any valid one), or only for what the body asks (rendering at once, publishing).
SCOPES_ASKED_IN_ROUTE_CODE = (
    # A schedule's items write scripts and render them with no one asking at the time.
    NeededScope("POST", "/api/schedules", Scope.RENDER, A_SCHEDULE),
    NeededScope("PATCH", "/api/schedules/{schedule_id}", Scope.RENDER, {}),
    NeededScope("DELETE", "/api/schedules/{schedule_id}", Scope.RENDER, {}),
    NeededScope("POST", "/api/schedules", Scope.PUBLISH, A_SCHEDULE | {"publish": {}}),
    NeededScope("PATCH", "/api/schedules/{schedule_id}", Scope.PUBLISH, {"publish": {}}),
    NeededScope("POST", "/api/videos/{video_id}/scripts/generate", Scope.RENDER, LESSON | {"auto_render": True}),
    NeededScope(
        "POST",
        "/api/videos/{video_id}/scripts/generate",
        Scope.PUBLISH,
        LESSON | {"render_defaults": {"publish": A_PUBLISH_TARGET}},
    ),
    NeededScope(
        "POST",
        "/api/videos/{video_id}/render-jobs",
        Scope.PUBLISH,
        {"script_id": PATH_VALUES["script_id"], "publish": A_PUBLISH_TARGET},
    ),
    NeededScope(
        "POST",
        "/api/ranking-jobs",
        Scope.PUBLISH,
        {
            "video_id": PATH_VALUES["video_id"],
            "clips": [{"media_key": "uploads/clip.mp4", "rank": 1}],
            "publish": A_PUBLISH_TARGET,
        },
    ),
)


def _scope_checks(dependant: Dependant) -> Iterator[Scope]:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, ScopeCheck):
            yield dependency.call.scope
        yield from _scope_checks(dependency)


def scopes_checked_by_dependencies() -> dict[tuple[str, str], frozenset[Scope]]:
    """(method, path template) of every route → the scopes its dependencies check (the ``ScopeCheck`` behind
    ``Reader``, ``ScriptWriter`` …), read off the app rather than written down, so a new route is in the table the
    moment it exists."""
    scopes: dict[tuple[str, str], frozenset[Scope]] = {}
    for route in iter_route_contexts(build_api().routes):
        if isinstance(route.original_route, APIRoute) and route.path_format:
            checked = frozenset(_scope_checks(route.original_route.dependant))
            scopes.update({(method, route.path_format): checked for method in route.methods or ()})
    return scopes


def refusal_of(response: httpx.Response) -> tuple[int, str | None, str | None]:
    """(status, error code, ``details.needed_scope``) of a refusal; only the status of an answer without an error to
    read (one to HEAD, or a success)."""
    if response.request.method == "HEAD" or response.is_success:
        return response.status_code, None, None
    error = response.json()["error"]
    return response.status_code, error["code"], (error.get("details") or {}).get("needed_scope")


async def keys_each_lacking_one_scope(admin: httpx.AsyncClient, unique_id: str) -> dict[Scope, tuple[str, str]]:
    """For each scope, (key id, secret) of a key the admin made with every other scope."""
    keys = {}
    for lacking in Scope:
        scopes = [scope.value for scope in Scope if scope is not lacking]
        made = await admin.post("/api/keys", json={"name": f"no-{lacking}-{unique_id}", "scopes": scopes})
        assert made.status_code == 201, made.text
        keys[lacking] = (made.json()["key_id"], made.json()["secret"])
    return keys


async def test_every_route_refuses_a_key_without_its_scope(
    admin: httpx.AsyncClient, anonymous: httpx.AsyncClient, unique_id: str
) -> None:
    guarded = guarded_paths()
    checked = scopes_checked_by_dependencies()
    unscoped = {route for route in guarded if not checked[route]}
    assert unscoped == set(NEEDS_ONLY_CREDENTIALS), "a route without a scope must say why in NEEDS_ONLY_CREDENTIALS"
    from_dependencies = [
        NeededScope(method, path, scope, {}) for method, path in guarded for scope in sorted(checked[(method, path)])
    ]
    cases = from_dependencies + list(SCOPES_ASKED_IN_ROUTE_CODE)
    assert len(set(cases)) == len(cases) > 50
    assert all(checked[(case.method, case.path)] for case in SCOPES_ASKED_IN_ROUTE_CODE), "each names a scoped route"

    keys = await keys_each_lacking_one_scope(admin, unique_id)
    try:
        answered, expected = {}, {}
        for case in cases:
            headers = {"Authorization": f"Bearer {keys[case.scope][1]}"}
            url = case.path.format(**PATH_VALUES)
            response = await anonymous.request(case.method, url, json=case.body, headers=headers)
            answered[case] = refusal_of(response)
            expected[case] = (403, None, None) if case.method == "HEAD" else (403, "FORBIDDEN", case.scope.value)
        assert answered == expected
    finally:
        for key_id, _ in keys.values():
            assert (await admin.delete(f"/api/keys/{key_id}")).status_code == 204


# The answers, besides 404, that a member of another workspace gets for the admin's things, and why.
ANSWERS_OTHER_THAN_404 = {
    ("POST", "/api/videos/{video_id}/scripts/generate"): (
        409,
        "CONFLICT",
        "a video id is the first workspace's to use it; asking to write a script under one another workspace holds "
        "is told the id is taken (choose another), and sees nothing of the video",
    ),
}
# Things of another workspace this test cannot make on the session's gateway, and where they are tested.
NOT_MADE_HERE = {
    ("DELETE", "/api/channels/{channel_id}"): "connecting a channel needs Google and REELFLOW_CHANNEL_TOKEN_KEY; "
    "tests/connected/test_gateway_channels.py::test_another_workspace_can_neither_see_nor_disconnect_the_channel",
}


async def admins_render_job(admin: httpx.AsyncClient, video_id: str, script_id: str) -> dict[str, Any]:
    """A render job of the admin's, canceled at once (its document is what the routes take; its render would only
    spend the CPU)."""
    created = await admin.post(f"/api/videos/{video_id}/render-jobs", json={"script_id": script_id, **TINY_RENDER})
    assert created.status_code == 201, created.text
    job_id: str = created.json()["job"]["job_id"]
    canceled = await admin.post(f"/api/render-jobs/{job_id}/cancel")
    assert canceled.status_code in (200, 202, 409), canceled.text  # 409: it ended first
    return await wait_for_job(admin, job_id, timeout_sec=60)


async def admins_thing(admin: httpx.AsyncClient, path: str, body: dict[str, Any], id_field: str) -> str:
    made = await admin.post(path, json=body)
    assert made.status_code == 201, made.text
    made_id: str = made.json()[id_field]
    return made_id


def bodies_of_writes(script_id: str, script: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for each route that reads one, so what refuses the request is its ownership check, not a 422."""
    return {
        ("POST", "/api/videos/{video_id}/review"): {"decision": "APPROVED"},
        ("POST", "/api/videos/{video_id}/comments"): {"at_sec": 1, "text": "not yours"},
        ("PATCH", "/api/videos/{video_id}/comments/{comment_id}"): {"resolved": True},
        ("POST", "/api/videos/{video_id}/scripts/generate"): LESSON,
        ("PUT", "/api/scripts/{script_id}"): {"script": script},
        ("POST", "/api/videos/{video_id}/render-jobs"): {"script_id": script_id, **TINY_RENDER},
        ("PATCH", "/api/webhooks/{subscription_id}"): {"enabled": False},
        ("PATCH", "/api/schedules/{schedule_id}"): {"enabled": False},
    }


async def test_every_route_answers_404_for_another_workspaces_thing(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    video_id = f"theirs-{unique_id}"
    script_id = await approved_script(admin, video_id)
    script = (await admin.get(f"/api/scripts/{script_id}")).json()
    job = await admins_render_job(admin, video_id, script_id)
    ids = {
        "video_id": video_id,
        "script_id": script_id,
        "version": "1",
        "job_id": job["job_id"],
        "kind": "video",
        "comment_id": await admins_thing(
            admin, f"/api/videos/{video_id}/comments", {"at_sec": 1, "text": "the admin's"}, "comment_id"
        ),
        "subscription_id": await admins_thing(
            admin,
            "/api/webhooks",
            {"url": f"http://{LOOPBACK}:9/never-called", "event_types": ["video.published"]},
            "subscription_id",
        ),
        "schedule_id": await admins_thing(admin, "/api/schedules", A_SCHEDULE, "schedule_id"),
        "key_id": await admins_thing(admin, "/api/keys", {"name": f"theirs-{unique_id}", "scopes": ["read"]}, "key_id"),
    }
    # Deletions last, so none hides from a later request what that request would have reached.
    routes = sorted(
        ((method, path) for method, path in guarded_paths() if "{" in path), key=lambda route: route[0] == "DELETE"
    )
    assert set(ANSWERS_OTHER_THAN_404) | set(NOT_MADE_HERE) <= set(routes)
    bodies = bodies_of_writes(script_id, script["script"])

    email, password = await new_member(admin, unique_id)
    member = await signed_in(services.gateway_url, email, password)
    try:
        own_video = f"mine-{unique_id}"
        assert (await member.post(f"/api/videos/{own_video}/scripts/generate", json=LESSON)).status_code == 202
        requests = [
            ((method, path), path.format(**ids), bodies.get((method, path)))
            for method, path in routes
            if (method, path) not in NOT_MADE_HERE
        ]
        # One id the member's own, the other the admin's: the second is checked too.
        requests += [
            (
                ("PATCH", "/api/videos/{video_id}/comments/{comment_id}"),
                f"/api/videos/{own_video}/comments/{ids['comment_id']}",
                {"resolved": True},
            ),
            (
                ("POST", "/api/videos/{video_id}/render-jobs"),
                f"/api/videos/{own_video}/render-jobs",
                {"script_id": script_id, **TINY_RENDER},
            ),
        ]
        answered, expected = {}, {}
        for (method, path), url, body in requests:
            response = await member.request(method, url, json=body)
            answered[(method, url)] = refusal_of(response)[:2]
            status, code, _ = ANSWERS_OTHER_THAN_404.get((method, path), (404, "NOT_FOUND", ""))
            expected[(method, url)] = (status, None if method == "HEAD" else code)
        assert answered == expected
    finally:
        await member.aclose()

    # Nothing of the admin's changed.
    assert (await admin.get(f"/api/videos/{video_id}")).json()["review"] == "PENDING"
    after = (await admin.get(f"/api/scripts/{script_id}")).json()
    assert (after["version"], after["status"]) == (script["version"], script["status"])
    assert (await admin.get(f"/api/render-jobs/{job['job_id']}")).json()["attempt"] == job["attempt"]
    comments = (await admin.get(f"/api/videos/{video_id}/comments")).json()
    assert [(comment["comment_id"], comment["resolved"]) for comment in comments] == [(ids["comment_id"], False)]
    assert (await admin.get(f"/api/webhooks/{ids['subscription_id']}")).json()["enabled"] is True
    assert (await admin.get(f"/api/schedules/{ids['schedule_id']}")).json()["enabled"] is True
    assert ids["key_id"] in [key["key_id"] for key in (await admin.get("/api/keys")).json()]
    for leftover in (
        f"/api/keys/{ids['key_id']}",
        f"/api/webhooks/{ids['subscription_id']}",
        f"/api/schedules/{ids['schedule_id']}",
        f"/api/videos/{video_id}",
    ):
        assert (await admin.delete(leftover)).status_code == 204, leftover


# ---- two gateway replicas on servers of their own, with small budgets ---------------------------------------------
@pytest.fixture(scope="module")
def limited_gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two gateways sharing one MongoDB, with budgets small enough to spend in a test, and an internal token."""
    root = tmp_path_factory.mktemp("limits")
    stack = EmbeddedStack(root / "stack")
    endpoints: StackEndpoints = stack.start()
    groups, urls = [], []
    try:
        for index in range(2):
            port = free_port()
            env = endpoints.service_env() | {
                "REELFLOW_GATEWAY_PORT": str(port),
                "REELFLOW_RATE_LIMIT_WRITES": str(WRITES_PER_WINDOW),
                "REELFLOW_RATE_LIMIT_SIGN_INS": str(SIGN_INS_PER_WINDOW),
                "REELFLOW_RATE_LIMIT_WINDOW_SEC": str(LONG_WINDOW_SEC),
                "REELFLOW_INTERNAL_TOKEN": INTERNAL_TOKEN,
            }
            group = WorkerGroup(env, root / f"logs-{index}", services=("gateway",))
            group.start()
            groups.append(group)
            url = f"http://{LOOPBACK}:{port}"
            group.wait_ready(endpoints.nats_url, url, timeout_sec=90)
            urls.append(url)
        yield urls[0], urls[1]
    finally:
        for group in groups:
            group.stop()
        stack.stop()


def _same_window(started: float) -> bool:
    return math.floor(started / LONG_WINDOW_SEC) == math.floor(time.time() / LONG_WINDOW_SEC)


async def _writes_until_refused(urls: tuple[str, str], unique_id: str) -> list[httpx.Response]:
    answers = []
    for attempt in range(WRITES_PER_WINDOW + 2):
        url = urls[attempt % 2]  # alternate replicas: the budget is one, wherever the request lands
        async with httpx.AsyncClient(base_url=url, headers=ADMIN_HEADERS, timeout=30) as client:
            answers.append(
                await client.post("/api/keys", json={"name": f"k-{unique_id}-{attempt}", "scopes": ["read"]})
            )
    return answers


async def test_the_write_budget_is_shared_by_the_replicas_and_answers_429_with_retry_after(
    limited_gateways: tuple[str, str], unique_id: str
) -> None:
    started = time.time()
    answers = await _writes_until_refused(limited_gateways, unique_id)
    if not _same_window(started):  # the hour turned during the test: its budget started again; try once more
        started = time.time()
        answers = await _writes_until_refused(limited_gateways, f"{unique_id}-again")
    statuses = [answer.status_code for answer in answers]
    assert statuses == [201] * WRITES_PER_WINDOW + [429, 429], statuses
    refused = answers[WRITES_PER_WINDOW]
    assert error_code(refused) == "RATE_LIMITED"
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= LONG_WINDOW_SEC and refused.json()["error"]["details"]["retry_after_sec"] == retry_after
    async with httpx.AsyncClient(base_url=limited_gateways[1], headers=ADMIN_HEADERS, timeout=30) as client:
        assert (await client.get("/api/keys")).status_code == 200  # reads have their own, larger budget


async def test_sign_in_attempts_are_limited_per_address(limited_gateways: tuple[str, str]) -> None:
    statuses = []
    for attempt in range(SIGN_INS_PER_WINDOW + 1):
        async with httpx.AsyncClient(base_url=limited_gateways[attempt % 2], timeout=30) as client:
            body: dict[str, Any] = {"email": "someone@reelflow.test", "password": "guess"}
            statuses.append((await client.post("/api/auth/login", json=body)).status_code)
    assert statuses == [401] * SIGN_INS_PER_WINDOW + [429], statuses


async def test_the_backend_internal_token_acts_in_its_workspace_without_a_budget(
    limited_gateways: tuple[str, str], unique_id: str
) -> None:
    headers = {"X-Internal-Token": INTERNAL_TOKEN}
    async with httpx.AsyncClient(base_url=limited_gateways[0], headers=headers, timeout=30) as backend:
        for index in range(WRITES_PER_WINDOW + 2):
            accepted = await backend.post(f"/api/videos/backend-{unique_id}-{index}/scripts/generate", json=LESSON)
            assert accepted.status_code == 202, accepted.text
        assert (await backend.get("/api/me")).status_code == 404  # the backend is not a user


# ---- the progress WebSocket takes the same credentials ---------------------------------------------------------
def _socket_url(gateway_url: str, video_id: str) -> str:
    return f"ws{gateway_url.removeprefix('http')}/ws/videos/{video_id}/render-progress"


async def _close_of(url: str, **options: Any) -> tuple[int | None, str]:
    async with connect(url, open_timeout=10, **options) as socket:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(socket.recv(), timeout=10)
    return socket.close_code, socket.close_reason or ""


async def test_the_progress_socket_needs_credentials_and_the_videos_workspace(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    video_id = f"socket-{unique_id}"
    assert (await admin.post(f"/api/videos/{video_id}/scripts/generate", json=LESSON)).status_code == 202
    url = _socket_url(services.gateway_url, video_id)

    code, reason = await _close_of(url)
    assert code == 4401 and "credentials" in reason
    email, password = await new_member(admin, unique_id)
    member = await signed_in(services.gateway_url, email, password)
    try:
        cookie = f"rf_session={member.cookies['rf_session']}"
        code, _ = await _close_of(url, additional_headers={"Cookie": cookie})
        assert code == 4404  # the member's own workspace does not hold the video
        code, reason = await _close_of(
            _socket_url(services.gateway_url, f"mine-{unique_id}"),
            additional_headers={"Cookie": cookie},
            origin="https://evil.example",
        )
        assert code == 4403 and "origin" in reason
    finally:
        await member.aclose()
    async with connect(url, additional_headers=ADMIN_HEADERS, open_timeout=10) as socket:
        first = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
    assert first["event"] in ("waiting", "progress", "status")
