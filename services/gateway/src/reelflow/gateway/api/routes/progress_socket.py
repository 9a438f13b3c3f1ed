"""Live progress of a video's latest render job over a WebSocket: the SSE stream's events as JSON messages."""

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from reelflow.gateway.accounts import Scope
from reelflow.gateway.api.deps import AccessDep, JobsDep, SocketCaller, StateDep
from reelflow.gateway.progress_stream import KEEP_ALIVE, ProgressEvent, video_progress_events
from reelflow.gateway.video_ids import require_video_id

router = APIRouter(tags=["render-jobs"])
NORMAL_CLOSURE = 1000


@router.websocket("/ws/videos/{video_id}/render-progress", name="followVideoRenderProgress")
async def follow_video_render_progress(
    websocket: WebSocket, video_id: str, caller: SocketCaller, access: AccessDep, jobs: JobsDep, state: StateDep
) -> None:
    """``{"event": "progress" | "status", "data": {...}}`` text messages, exactly the SSE stream's events of the
    video's latest job (``GET /api/render-jobs/{job_id}/events``), then a normal close (1000) after ``status``.

    A video with no job yet gets ``{"event": "waiting", "data": {"video_id"}}``, and is looked at again every
    REELFLOW_SSE_POLL_SEC until it has one, for at most REELFLOW_WS_IDLE_TIMEOUT_SEC (then close 4408). A video id
    the API cannot accept closes it with 1008; either way the reason says why.

    It takes the same credentials as the REST routes (a browser's session cookie, then only from the gateway's own
    origin or an allowed one; a program's `Authorization: Bearer`): without them it closes with 4401, for another
    workspace's video with 4404, over the rate limit with 4429.
    """
    require_video_id(video_id)
    caller.require(Scope.READ)
    await access.video(caller, video_id)
    await websocket.accept()
    settings = state.settings
    events = video_progress_events(
        video_id,
        latest_job_id=jobs.latest_job_id,
        read_job=jobs.find_job,
        hub=state.hub,
        poll_sec=settings.sse_poll_sec,
        keepalive_sec=settings.sse_keepalive_sec,
        idle_timeout_sec=settings.ws_idle_timeout_sec,
    )
    if await _sent_until_client_leaves(websocket, events):
        await websocket.close(code=NORMAL_CLOSURE)


async def _sent_until_client_leaves(websocket: WebSocket, events: AsyncIterator[ProgressEvent]) -> bool:
    """Send every event as JSON (keep-alives are the WebSocket's own pings' job); False when the client left first.

    The client sends nothing, so reading is only how its leaving is noticed: then the events stop at once, and
    with them the job's listener and MongoDB polls. An error producing the events is raised here.
    """

    async def send_all() -> None:
        async for event in events:
            if event.event != KEEP_ALIVE:
                await websocket.send_json({"event": event.event, "data": event.data})

    async def client_left() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    sending = asyncio.create_task(send_all())
    watching = asyncio.create_task(client_left())
    try:
        done, _ = await asyncio.wait({sending, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sending, watching):
            task.cancel()
        await asyncio.gather(sending, watching, return_exceptions=True)
    if sending not in done:
        return False
    try:
        sending.result()
    except WebSocketDisconnect:
        return False
    return True
