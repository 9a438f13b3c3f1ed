"""Callers of a second workspace, for the tests of what one workspace cannot see of another's."""

import httpx

from tests.conftest import RunningServices


async def member_client(admin: httpx.AsyncClient, services: RunningServices, unique_id: str) -> httpx.AsyncClient:
    """A member of a workspace of their own, with an API key of every member scope."""
    email, password = f"member-{unique_id}@reelflow.test", f"password-{unique_id}"
    assert (await admin.post("/api/users", json={"email": email, "password": password})).status_code == 201
    async with httpx.AsyncClient(base_url=services.gateway_url, timeout=30) as browser:
        signed = await browser.post("/api/auth/login", json={"email": email, "password": password})
        scopes = ["read", "scripts", "render", "uploads"]
        key = await browser.post(
            "/api/keys",
            json={"name": "member test", "scopes": scopes},
            headers={"X-CSRF-Token": signed.json()["csrf_token"]},
        )
        assert key.status_code == 201, key.text
    headers = {"Authorization": f"Bearer {key.json()['secret']}"}
    return httpx.AsyncClient(base_url=services.gateway_url, headers=headers, timeout=30)
