"""The one producer of live progress that SSE and the WebSocket share: events from a job's snapshot, its polls and
the hub, never going backwards, ending with the status; and a video's latest job, waited for when it has none."""

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from tests.gateway_auth import as_admin_without_accounts

from reelflow.contracts import JobStatus, RenderJob, Step
from reelflow.gateway.api.errors import close_code_of, close_reason
from reelflow.gateway.app import build_api
from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.progress_stream import (
    KEEP_ALIVE,
    ProgressEvent,
    job_progress_events,
    sse_frame,
    video_progress_events,
)
from reelflow.gateway.refusals import InvalidRequestError, NoRenderJobYetError
from reelflow.gateway.settings import GatewaySettings

JOB_ID = "job-1"
POLL_SEC = 0.01


def job(progress: int, status: JobStatus = JobStatus.PROCESSING, attempt: int = 1) -> RenderJob:
    now = datetime.now(UTC)
    return RenderJob(
        job_id=JOB_ID,
        video_id="video-1",
        attempt=attempt,
        status=status,
        step=Step.COMPOSE_VIDEO,
        progress=progress,
        spec=None,
        created_at=now,
        updated_at=now,
    )


class JobAsPolled:
    """Reads of the job as MongoDB would answer them one poll after another (the last one repeats)."""

    def __init__(self, *states: RenderJob) -> None:
        self._states: Iterator[RenderJob] = itertools.chain(states, itertools.repeat(states[-1]))

    async def __call__(self, job_id: str) -> RenderJob | None:
        return next(self._states) if job_id == JOB_ID else None


async def collected(events: AsyncIterator[ProgressEvent]) -> list[ProgressEvent]:
    return [event async for event in events]


async def test_progress_only_rises_and_the_events_end_with_the_final_status() -> None:
    read_job = JobAsPolled(job(10), job(30), job(20), job(30), job(95, JobStatus.COMPLETED))
    events = await asyncio.wait_for(
        collected(
            job_progress_events(JOB_ID, read_job=read_job, hub=ProgressHub(), poll_sec=POLL_SEC, keepalive_sec=60)
        ),
        timeout=5,
    )
    assert [(name, data["progress"]) for name, data in events] == [
        ("progress", 10),
        ("progress", 30),
        ("progress", 100),
        ("status", 95),
    ]
    assert events[-1].data["status"] == "COMPLETED"


async def test_live_updates_come_from_the_hub_and_other_attempts_are_ignored() -> None:
    hub = ProgressHub()
    read_job = JobAsPolled(job(5))
    events = job_progress_events(JOB_ID, read_job=read_job, hub=hub, poll_sec=60, keepalive_sec=60)
    first = await anext(events)
    assert first == ProgressEvent("progress", first.data) and first.data["progress"] == 5
    later = asyncio.ensure_future(collected(events))
    await asyncio.sleep(0.05)
    hub.announce(JOB_ID, {**first.data, "attempt": 2, "progress": 90})
    hub.announce(JOB_ID, {**first.data, "progress": 50})
    hub.announce(JOB_ID, {**first.data, "progress": 40})
    hub.announce(JOB_ID, {**first.data, "status": "FAILED", "progress": 60})
    rest = await asyncio.wait_for(later, timeout=5)
    assert [(name, data["progress"]) for name, data in rest] == [("progress", 50), ("progress", 60), ("status", 60)]


async def test_a_quiet_job_gets_keep_alives_which_sse_sends_as_comments() -> None:
    events = job_progress_events(
        JOB_ID, read_job=JobAsPolled(job(5)), hub=ProgressHub(), poll_sec=0.01, keepalive_sec=0.03
    )
    await anext(events)
    assert await asyncio.wait_for(anext(events), timeout=5) == ProgressEvent(KEEP_ALIVE, {})
    await events.aclose()
    assert sse_frame(ProgressEvent(KEEP_ALIVE, {})) == ": keep-alive\n\n"
    assert sse_frame(ProgressEvent("status", {"status": "완료"})) == 'event: status\ndata: {"status": "완료"}\n\n'


async def test_a_video_without_a_job_waits_for_one_then_follows_it() -> None:
    answers = iter([None, None, JOB_ID])

    async def latest_job_id(video_id: str) -> str | None:
        return next(answers)

    events = await asyncio.wait_for(
        collected(
            video_progress_events(
                "video-1",
                latest_job_id=latest_job_id,
                read_job=JobAsPolled(job(100, JobStatus.COMPLETED)),
                hub=ProgressHub(),
                poll_sec=POLL_SEC,
                keepalive_sec=60,
                idle_timeout_sec=5,
            )
        ),
        timeout=5,
    )
    assert [name for name, _ in events] == ["waiting", "progress", "status"]
    assert events[0].data == {"video_id": "video-1"}


async def test_a_video_that_never_gets_a_job_is_given_up_on() -> None:
    async def no_job(video_id: str) -> str | None:
        return None

    events = video_progress_events(
        "video-1",
        latest_job_id=no_job,
        read_job=JobAsPolled(job(0)),
        hub=ProgressHub(),
        poll_sec=POLL_SEC,
        keepalive_sec=60,
        idle_timeout_sec=0.05,
    )
    assert (await anext(events)).event == "waiting"
    with pytest.raises(NoRenderJobYetError) as gave_up:
        await asyncio.wait_for(anext(events), timeout=5)
    assert close_code_of(gave_up.value) == 4408 and "video-1" in gave_up.value.message


def test_refusals_close_a_socket_with_a_code_and_a_reason_that_fits_a_frame() -> None:
    assert close_code_of(InvalidRequestError("bad id")) == 1008
    assert close_code_of(RuntimeError("bug")) == 1011
    reason = close_reason("비디오 " * 100)
    assert len(reason.encode()) <= 123 and reason.endswith("...")


# ---- through the WebSocket route -------------------------------------------------------------------------------
class NoJobs:
    """The job commands as the progress socket uses them, for a video that never gets a job."""

    async def latest_job_id(self, video_id: str) -> str | None:
        return None

    async def find_job(self, job_id: str) -> RenderJob | None:
        return None


def _socket_client() -> TestClient:
    app = build_api()
    settings = GatewaySettings(sse_poll_sec=0.02, ws_idle_timeout_sec=0.2)
    app.state.gateway = SimpleNamespace(settings=settings, jobs=NoJobs(), hub=ProgressHub())
    as_admin_without_accounts(app)
    return TestClient(app)


def test_the_socket_says_it_waits_then_closes_4408_when_no_job_comes() -> None:
    with _socket_client() as client, client.websocket_connect("/ws/videos/video-1/render-progress") as socket:
        assert socket.receive_json() == {"event": "waiting", "data": {"video_id": "video-1"}}
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 4408 and "video-1" in closed.value.reason


def test_the_socket_closes_1008_for_a_video_id_the_api_cannot_take() -> None:
    with (
        _socket_client() as client,
        client.websocket_connect("/ws/videos/-bad~id/render-progress") as socket,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        socket.receive_json()
    assert closed.value.code == 1008 and "video_id" in closed.value.reason
