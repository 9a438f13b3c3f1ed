"""A studio's view of the running gateway: a video's render progress over the WebSocket, and its files streamed
through the gateway with byte ranges, on the real servers and all six services."""

import asyncio
import hashlib
import itertools
import json
from typing import Any

import httpx
import pytest
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import TINY_RENDER, approved_script
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.connected

RENDER_TIMEOUT_SEC = 240


def _socket_url(services: RunningServices, video_id: str) -> str:
    return f"ws{services.gateway_url.removeprefix('http')}/ws/videos/{video_id}/render-progress"


async def _messages_until_closed(socket: ClientConnection) -> list[dict[str, Any]]:
    messages = []
    async for text in socket:
        messages.append(json.loads(text))
    return messages


@pytest.fixture(scope="module")
async def followed_render(services: RunningServices) -> dict[str, Any]:
    """A video followed over the WebSocket from before it had a job until its job completed."""
    video_id = f"ws-video-{hashlib.sha256(services.gateway_url.encode()).hexdigest()[:8]}"
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        # The script claims the video for the admin's workspace; the socket then waits for its first job.
        script_id = await approved_script(client, video_id)
        socket_url = _socket_url(services, video_id)
        async with connect(socket_url, additional_headers=ADMIN_HEADERS, open_timeout=10) as socket:
            first = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            body = {"script_id": script_id, **TINY_RENDER}
            created = await client.post(f"/api/videos/{video_id}/render-jobs", json=body)
            assert created.status_code == 201, created.text
            job_id = created.json()["job"]["job_id"]
            messages = await asyncio.wait_for(_messages_until_closed(socket), timeout=RENDER_TIMEOUT_SEC)
        return {
            "video_id": video_id,
            "job_id": job_id,
            "first": first,
            "messages": messages,
            "close": (socket.close_code, socket.close_reason),
        }


async def test_the_socket_waits_for_the_videos_job_then_follows_it_to_completed(
    followed_render: dict[str, Any],
) -> None:
    assert followed_render["first"] == {"event": "waiting", "data": {"video_id": followed_render["video_id"]}}
    messages = followed_render["messages"]
    assert {message["event"] for message in messages} <= {"progress", "status"}
    assert all(message["data"]["job_id"] == followed_render["job_id"] for message in messages)
    progress = [message["data"]["progress"] for message in messages if message["event"] == "progress"]
    assert all(later >= earlier for earlier, later in itertools.pairwise(progress)), progress
    assert progress[-1] == 100
    assert messages[-1]["event"] == "status" and messages[-1]["data"]["status"] == "COMPLETED", messages[-1]
    assert followed_render["close"] == (1000, "")


async def test_a_socket_for_a_finished_job_sends_its_end_and_closes(
    services: RunningServices, followed_render: dict[str, Any]
) -> None:
    socket_url = _socket_url(services, followed_render["video_id"])
    async with connect(socket_url, additional_headers=ADMIN_HEADERS, open_timeout=10) as socket:
        messages = await asyncio.wait_for(_messages_until_closed(socket), timeout=30)
    assert [message["event"] for message in messages] == ["progress", "status"]
    assert messages[-1]["data"]["status"] == "COMPLETED" and socket.close_code == 1000


async def test_a_video_id_the_api_cannot_take_closes_the_socket_with_1008(services: RunningServices) -> None:
    async with connect(
        _socket_url(services, "-not~a~video"), additional_headers=ADMIN_HEADERS, open_timeout=10
    ) as socket:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(socket.recv(), timeout=10)
    assert socket.close_code == 1008
    assert "video_id" in (socket.close_reason or "")


async def test_the_video_streams_whole_and_in_ranges_from_the_real_store(
    services: RunningServices, followed_render: dict[str, Any]
) -> None:
    job_id = followed_render["job_id"]
    url = f"/api/assets/{job_id}/video"
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        whole = await client.get(url)
        assert whole.status_code == 200, whole.text
        video = whole.content
        size = len(video)
        assert whole.headers["content-type"] == "video/mp4" and whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-length"] == str(size)
        assert whole.headers["etag"] == f'"{hashlib.sha256(video).hexdigest()}"'
        assert whole.headers["x-content-type-options"] == "nosniff"
        job = (await client.get(f"/api/render-jobs/{job_id}")).json()
        assert [asset["size_bytes"] for asset in job["assets"] if asset["kind"] == "video"] == [size]

        for header, start, end in [("bytes=0-99", 0, 99), (f"bytes={size - 10}-", size - 10, size - 1)]:
            part = await client.get(url, headers={"Range": header})
            assert part.status_code == 206, part.text
            assert part.content == video[start : end + 1]
            assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        suffix = await client.get(url, headers={"Range": "bytes=-500"})
        assert (suffix.status_code, suffix.content) == (206, video[-500:])

        refused = await client.get(url, headers={"Range": f"bytes={size}-"})
        assert refused.status_code == 416 and refused.headers["content-range"] == f"bytes */{size}"
        assert refused.json()["error"]["code"] == "RANGE_NOT_SATISFIABLE"

        unchanged = await client.get(url, headers={"If-None-Match": whole.headers["etag"]})
        assert (unchanged.status_code, unchanged.content) == (304, b"")

        head = await client.head(url)
        assert (head.status_code, head.headers["content-length"], head.content) == (200, str(size), b"")

        thumbnail = await client.get(f"/api/assets/{job_id}/thumbnail", params={"download": "1"})
        assert thumbnail.status_code == 200 and thumbnail.content.startswith(b"\xff\xd8")
        assert thumbnail.headers["content-type"] == "image/jpeg"
        assert thumbnail.headers["content-disposition"] == f'attachment; filename="{job_id}.jpg"'

        missing = await client.get("/api/assets/no-such-job/video")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
