"""What every answer of the gateway carries for browsers: security headers (errors and docs included), HSTS only
over TLS, CORS only for the configured origins, and documentation pages that need nothing from the internet."""

import re
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from tests.gateway_auth import as_admin_without_accounts

from reelflow.gateway.api.docs_pages import docs_page_policy, inline_script_hashes
from reelflow.gateway.api.response_headers import STRICT_CONTENT_SECURITY_POLICY
from reelflow.gateway.app import build_api
from reelflow.gateway.settings import GatewaySettings

BASE_URL = "http://gateway"
STUDIO = "https://studio.example.com"


class RaisingCommands:
    def __getattr__(self, name: str) -> Any:
        async def command(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"command {name} failed")

        return command


def _api(**settings: Any) -> FastAPI:
    app = build_api(settings=GatewaySettings(**settings))
    app.state.gateway = SimpleNamespace(scripts=RaisingCommands(), jobs=RaisingCommands())
    as_admin_without_accounts(app)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_api()), base_url=BASE_URL) as client:
        yield client


def assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "strict-transport-security" not in headers, "plain HTTP gets no HSTS"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/openapi.json", 200),
        ("GET", "/no/such/route", 404),
        ("DELETE", "/api/scripts/s-1", 405),
        ("POST", "/api/videos/a%20b/render-jobs", 422),
        ("GET", "/api/render-jobs/job-1", 500),
    ],
)
async def test_every_answer_carries_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, json={"script_id": "s"} if method == "POST" else None)
    assert response.status_code == status
    assert_security_headers(response)
    assert response.headers["content-security-policy"] == STRICT_CONTENT_SECURITY_POLICY


async def test_hsts_only_when_the_request_came_over_tls() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_api()), base_url="https://gateway") as client:
        assert "max-age=" in (await client.get("/openapi.json")).headers["strict-transport-security"]
    forwarded = {"X-Forwarded-Proto": "https"}
    for trusted in (False, True):
        transport = httpx.ASGITransport(app=_api(trust_forwarded_headers=trusted))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            response = await client.get("/openapi.json", headers=forwarded)
        assert ("strict-transport-security" in response.headers) is trusted


# ---- the documentation pages ----------------------------------------------------------------------------------
_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_a_docs_page_needs_nothing_from_the_internet(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert_security_headers(response)
    html = response.text
    assert not [url for url in re.findall(r"https?://[^\s\"'<>)]+", html) if not url.startswith(BASE_URL)], html
    references = _REFERENCE.findall(html)
    scripts = [ref for ref in references if ref.endswith(".js")]
    styles = [ref for ref in references if ref.endswith(".css")]
    assert scripts, html
    for reference in references:
        assert reference.startswith("/"), reference
        served = await client.get(reference)
        assert served.status_code == 200, reference
        assert_security_headers(served)
        kind = served.headers["content-type"]
        if reference in scripts:
            assert "javascript" in kind, (reference, kind)
        if reference in styles:
            assert kind.startswith("text/css"), (reference, kind)
    policy = response.headers["content-security-policy"]
    assert "http" not in policy and "unsafe-eval" not in policy
    for source in inline_script_hashes(html):
        assert source in policy


def test_a_docs_page_policy_allows_exactly_its_inline_scripts() -> None:
    html = "<script src='/static/docs/a.js'></script><script>start()</script>"
    [source] = inline_script_hashes(html)
    assert source.startswith("'sha256-") and source in docs_page_policy(html)
    assert inline_script_hashes(html.replace("start()", "evil()")) != [source]


# ---- CORS ------------------------------------------------------------------------------------------------------
async def test_no_cors_headers_unless_origins_are_configured(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json", headers={"Origin": STUDIO})
    assert "access-control-allow-origin" not in response.headers


async def test_an_allowed_origin_gets_credentialed_cors_and_another_does_not() -> None:
    transport = httpx.ASGITransport(app=_api(cors_allow_origins=[STUDIO]))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        preflight = await client.options(
            "/api/scripts/s-1",
            headers={
                "Origin": STUDIO,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "If-Match, X-CSRF-Token, Content-Type",
            },
        )
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == STUDIO
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert "PUT" in preflight.headers["access-control-allow-methods"]
        assert_security_headers(preflight)
        allowed = await client.get("/openapi.json", headers={"Origin": STUDIO})
        assert allowed.headers["access-control-allow-origin"] == STUDIO
        assert "ETag" in allowed.headers["access-control-expose-headers"]
        other = await client.get("/openapi.json", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("origins", "problem"),
    [(["*"], "wildcard"), (["https://*.example.com"], "wildcard"), (["https://studio.example.com/"], "not an origin")],
)
def test_cors_origins_must_be_exact(origins: list[str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        GatewaySettings(cors_allow_origins=origins)


def test_cors_origins_come_from_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_CORS_ALLOW_ORIGINS", f'["{STUDIO}", "http://127.0.0.1:5173"]')
    assert GatewaySettings().cors_allow_origins == [STUDIO, "http://127.0.0.1:5173"]
    monkeypatch.setenv("REELFLOW_CORS_ALLOW_ORIGINS", '["*"]')
    with pytest.raises(ValidationError, match="wildcard"):
        GatewaySettings()
