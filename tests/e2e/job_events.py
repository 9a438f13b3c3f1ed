"""Reading a render job's SSE progress stream the way a browser or the Spring backend would."""

import json
from typing import Any

import httpx

JobEvent = tuple[str, dict[str, Any]]


async def events_until_status(client: httpx.AsyncClient, job_id: str, *, timeout_sec: float) -> list[JobEvent]:
    """The job's SSE stream as (event, data) pairs, read until its final ``status`` event.

    ``timeout_sec`` bounds each read, so a stalled stream fails the test instead of hanging it.
    """
    events: list[JobEvent] = []
    event = "message"
    timeout = httpx.Timeout(timeout_sec, connect=5)
    async with client.stream("GET", f"/api/render-jobs/{job_id}/events", timeout=timeout) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                events.append((event, json.loads(line[5:])))
                if event == "status":
                    break
    return events
