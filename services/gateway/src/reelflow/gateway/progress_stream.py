"""Live progress, produced once for every transport: a job's snapshot, then live updates, never going backwards,
until the job ends; or, for a video, the same for its latest job once it has one.

The generators yield :class:`ProgressEvent` pairs; the SSE route formats them as frames (:func:`sse_frame`), the
WebSocket sends them as JSON messages. Neither decides anything about progress itself.
"""

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, NamedTuple

from reelflow.contracts import TERMINAL_STATUSES, JobStatus, RenderJob
from reelflow.gateway.job_views import job_update
from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.refusals import NoRenderJobYetError

JobReader = Callable[[str], Awaitable[RenderJob | None]]
LatestJobFinder = Callable[[str], Awaitable[str | None]]

PROGRESS = "progress"
STATUS = "status"  # the last event: the job ended
WAITING = "waiting"  # the video has no render job yet
KEEP_ALIVE = "keep-alive"  # nothing changed for a while; SSE sends a comment so proxies keep the stream open


class ProgressEvent(NamedTuple):
    event: str
    data: dict[str, Any]


def sse_frame(event: ProgressEvent) -> str:
    if event.event == KEEP_ALIVE:
        return ": keep-alive\n\n"
    return f"event: {event.event}\ndata: {json.dumps(event.data, ensure_ascii=False)}\n\n"


def is_terminal(update: dict[str, Any]) -> bool:
    return update.get("status") in {status.value for status in TERMINAL_STATUSES}


async def job_progress_events(
    job_id: str, *, read_job: JobReader, hub: ProgressHub, poll_sec: float, keepalive_sec: float
) -> AsyncGenerator[ProgressEvent]:
    """Progress events for ``job_id``; progress only rises; the events end with the final status.

    Live updates come from this replica's hub; MongoDB is re-read every ``poll_sec`` so a change recorded by
    another replica still reaches the listener.
    """
    async with hub.listen(job_id) as queue:
        job = await read_job(job_id)
        if job is None:
            yield ProgressEvent("error", {"code": "NOT_FOUND", "message": f"render job {job_id} does not exist"})
            return
        last_progress = job.progress
        attempt = job.attempt
        yield ProgressEvent(PROGRESS, job_update(job))
        if job.status in TERMINAL_STATUSES:
            yield ProgressEvent(STATUS, job_update(job))
            return
        idle = 0.0
        while True:
            try:
                update = await asyncio.wait_for(queue.get(), timeout=poll_sec)
            except TimeoutError:
                idle += poll_sec
                job = await read_job(job_id)
                if job is None:
                    return
                update = job_update(job)
                if job.status not in TERMINAL_STATUSES and update["progress"] <= last_progress:
                    if idle >= keepalive_sec:
                        idle = 0.0
                        yield ProgressEvent(KEEP_ALIVE, {})
                    continue
            idle = 0.0
            if update.get("attempt", attempt) != attempt:
                continue
            if is_terminal(update):
                if update["status"] == JobStatus.COMPLETED:
                    last_progress = 100
                yield ProgressEvent(PROGRESS, {**update, "progress": max(last_progress, update["progress"])})
                yield ProgressEvent(STATUS, update)
                return
            if update["progress"] >= last_progress:
                last_progress = update["progress"]
                yield ProgressEvent(PROGRESS, update)


async def video_progress_events(
    video_id: str,
    *,
    latest_job_id: LatestJobFinder,
    read_job: JobReader,
    hub: ProgressHub,
    poll_sec: float,
    keepalive_sec: float,
    idle_timeout_sec: float,
) -> AsyncGenerator[ProgressEvent]:
    """The progress events of the video's latest render job.

    A video with no job yet gets one ``waiting`` event, then is looked at again every ``poll_sec``; if it still has
    none after ``idle_timeout_sec``, :class:`NoRenderJobYetError`.
    """
    job_id = await latest_job_id(video_id)
    if job_id is None:
        yield ProgressEvent(WAITING, {"video_id": video_id})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + idle_timeout_sec
        while job_id is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise NoRenderJobYetError(video_id, idle_timeout_sec)
            await asyncio.sleep(min(poll_sec, remaining))
            job_id = await latest_job_id(video_id)
    async for event in job_progress_events(
        job_id, read_job=read_job, hub=hub, poll_sec=poll_sec, keepalive_sec=keepalive_sec
    ):
        yield event
