"""The gateway's ``GET /metrics`` on its HTTP port: requests by route template, method and status, latency, and
its ledger's consumer lag, read from the running services."""

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS

pytestmark = pytest.mark.connected


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_requests_are_counted_by_route_template_and_the_ledger_lag_is_served(
    services: RunningServices, unique_id: str
) -> None:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=10) as client:
        for suffix in ("a", "b", "c"):
            assert (await client.get(f"/api/render-jobs/missing-{unique_id}-{suffix}")).status_code == 404
        before = samples((await client.get("/metrics")).text)
        assert (await client.get(f"/api/render-jobs/missing-{unique_id}-d")).status_code == 404
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    by_template = frozenset({("handler", "/api/render-jobs/{job_id}"), ("method", "GET"), ("status", "404")})
    key = ("reelflow_http_requests_total", by_template)
    assert after[key] == before[key] + 1, "one series per route template, not per job id"
    assert not any(unique_id in str(labels) for _, labels in after), "no raw path becomes a label"
    latency = ("reelflow_http_request_duration_seconds_count", by_template - {("status", "404")})
    assert after[latency] >= 4
    assert not any(dict(labels).get("handler") == "/metrics" for _, labels in after), "scrapes are not counted"
    for step in ("ledger", "ledger-scripts"):
        assert after[("reelflow_consumer_pending_messages", frozenset({("step", step)}))] >= 0
