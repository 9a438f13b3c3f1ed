"""The ledger's event projector: the single writer of job and script state, projecting bus events into MongoDB.

Render events move a job through the pure projection (``projection``); a job that is stored (and published, when
asked) owes its ``rf.render.completed``, written with that change and published by the outbox relay. The job turns
COMPLETED when the ledger reads that event back from the stream, like any terminal state; the completion names the
script version and each asset's download URL. Script events save the written script, and an ``auto_render``
request starts its job. A job's end, its publication and a written script queue their webhooks
(``webhook_dispatcher``), and the Spring backend's callbacks (``backend_callbacks``), before the event is acked.
"""

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

import structlog

from reelflow.contracts import (
    STORED_EVENTS,
    TERMINAL_STATUSES,
    Event,
    JobStatus,
    ProgressUpdate,
    Publication,
    RenderCancel,
    RenderCompleted,
    RenderFailed,
    RenderJob,
    RenderPublished,
    ScriptFailed,
    ScriptGenerated,
    ScriptStatus,
    Step,
)
from reelflow.gateway.backend_callbacks import BackendCallbacks
from reelflow.gateway.job_views import job_update
from reelflow.gateway.outbox import OutboxRelay
from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.projection import completion_of, is_ready_to_finalize, project_event, project_progress
from reelflow.gateway.render_job_commands import RenderJobCommands
from reelflow.gateway.render_specs import RenderOptions
from reelflow.gateway.store import JOBS, JobChange, LedgerStore, ScriptRequestState
from reelflow.gateway.webhook_dispatcher import WebhookDispatcher
from reelflow.runtime.attempts import ClaimOutcome
from reelflow.runtime.bus import TERMINAL_STATUS_BY_EVENT, EventBus, attempt_of
from reelflow.runtime.failures import InvalidScriptError

log = structlog.get_logger("reelflow.ledger")
EVENTS_BY_SUBJECT: dict[str, type[Event]] = {event.subject: event for event in STORED_EVENTS}
AUTO_RENDER_NAMESPACE = uuid.UUID("5c1f3f0e-9a55-4d8e-8f0b-7d0c2b7e4a61")


def parse_stored_event(subject: str, body: dict[str, Any]) -> Event:
    event_type = EVENTS_BY_SUBJECT.get(subject)
    if event_type is None:
        raise InvalidScriptError(f"the ledger does not know subject {subject!r}")
    return event_type.model_validate(body)


def auto_render_job_id(script_id: str) -> str:
    """The job an auto-rendered script starts, derived from the script so a redelivered event finds it again."""
    return uuid.uuid5(AUTO_RENDER_NAMESPACE, script_id).hex


def _with_owed_completion(
    job: RenderJob | None, *, script_version: int | None = None, assets_base_url: str | None = None
) -> JobChange | None:
    """A projected job, owing its ``rf.render.completed`` once it is ready to finalize."""
    if job is None:
        return None
    if not is_ready_to_finalize(job):
        return JobChange(job)
    completion = completion_of(job, script_version=script_version, assets_base_url=assets_base_url)
    return JobChange(job, owed=(completion,))


def _progressed(job: RenderJob | None, update: ProgressUpdate) -> JobChange | None:
    moved = project_progress(job, update)
    return None if moved is None else JobChange(moved)


class EventProjector:
    def __init__(
        self,
        store: LedgerStore,
        bus: EventBus,
        hub: ProgressHub,
        relay: OutboxRelay,
        jobs: RenderJobCommands,
        webhooks: WebhookDispatcher,
        backend: BackendCallbacks,
        *,
        assets_base_url: str,
    ) -> None:
        self._store = store
        self._backend = backend
        self._assets_base_url = assets_base_url
        self._webhooks = webhooks
        self._bus = bus
        self._hub = hub
        self._relay = relay
        self._jobs = jobs

    # ---- render jobs ------------------------------------------------------------------------------------------
    async def record_render_event(self, event: Event) -> None:
        job_id = event.ce_subject()
        if not await self._won_its_attempt(event):
            log.info("terminal event ignored: its attempt ended otherwise", job_id=job_id, event_type=event.event_type)
            return
        now = datetime.now(UTC)
        # Read before the compare-and-swap (it never changes once the job is made): any event may find the job ready
        # to finalize, and each completion it owes must name the same version.
        version = await self._store.script_version_of_job(job_id)
        job, changed = await self._store.update_job(
            job_id,
            lambda current: _with_owed_completion(
                project_event(current, event, at=now), script_version=version, assets_base_url=self._assets_base_url
            ),
        )
        if job is None:
            log.warning("event for an unknown job ignored", job_id=job_id, event_type=event.event_type)
            return
        if changed:
            await self._follow_change(job, now)
        await self._queue_webhooks(event, job)

    async def _follow_change(self, job: RenderJob, now: datetime) -> None:
        """What a changed job sets off: its listeners told, its video's slot freed when it ended, its completion
        published."""
        job_id = job.job_id
        self._hub.announce(job_id, job_update(job, "done" if job.status == JobStatus.COMPLETED else ""))
        if job.status in TERMINAL_STATUSES:
            if job.video_id is not None:
                await self._store.release_active(job.video_id, job_id)
            log.info("job ended", job_id=job_id, attempt=job.attempt, status=job.status)
        if job.status == JobStatus.COMPLETED:
            await self._announce_done(job, now)
        if is_ready_to_finalize(job):
            await self._relay.relay_now(JOBS, job_id)

    async def _queue_webhooks(self, event: Event, job: RenderJob) -> None:
        """Queue the webhooks the recorded event owes, last, whether or not this delivery changed the job: a
        redelivered event (after a crash, or MongoDB failing here) queues them again, a no-op once they are queued."""
        ending = isinstance(event, RenderCompleted | RenderFailed | RenderCancel)
        if ending and getattr(event, "attempt", None) == job.attempt:
            await self._backend.job_ended(job)
        if isinstance(event, RenderCompleted | RenderFailed) and event.attempt == job.attempt:
            await self._webhooks.enqueue_job_end(job)
        elif isinstance(event, RenderPublished) and event.attempt == job.attempt:
            publication = Publication(platform=event.platform, external_id=event.external_id, url=event.url)
            await self._webhooks.enqueue_publication(job, publication)

    async def _won_its_attempt(self, event: Event) -> bool:
        """A terminal event counts only if its outcome finished the attempt (the backend may publish one without
        claiming it; the ledger claims on its behalf, and a losing outcome is ignored)."""
        terminal = TERMINAL_STATUS_BY_EVENT.get(type(event))
        attempt = attempt_of(event)
        if terminal is None or attempt is None or self._bus.attempts is None:
            return True
        claim = await self._bus.attempts.claim(*attempt, terminal)
        return claim.outcome != ClaimOutcome.LOST

    async def _announce_done(self, job: RenderJob, at: datetime) -> None:
        """Tell every replica's progress listeners the job reached 100 (core NATS; nothing depends on it)."""
        done = ProgressUpdate(
            job_id=job.job_id, attempt=job.attempt, step=Step.FINALIZE, progress=100, message="done", at=at
        )
        with contextlib.suppress(Exception):
            await self._bus.publish(done)

    async def record_progress(self, update: ProgressUpdate) -> None:
        self._hub.announce(
            update.job_id,
            {
                "job_id": update.job_id,
                "attempt": update.attempt,
                "status": JobStatus.PROCESSING.value,
                "step": update.step.value,
                "progress": update.progress,
                "message": update.message,
                "error": None,
                "at": update.at.isoformat(),
            },
        )
        if update.step == Step.FINALIZE:
            return
        await self._store.update_job(update.job_id, lambda current: _progressed(current, update))

    # ---- scripts ----------------------------------------------------------------------------------------------
    async def record_script_generated(self, event: ScriptGenerated) -> None:
        """Save the new script as a DRAFT, or, when auto-render was asked for, APPROVED with its job started."""
        script = event.script
        if event.auto_render:
            script = script.model_copy(update={"status": ScriptStatus.APPROVED})
        await self._store.save_script(script)
        await self._store.keep_script_version(script)
        await self._store.finish_script_request(script.script_id, ScriptRequestState.DONE, None)
        await self._webhooks.enqueue_script(script)
        await self._backend.script_written(script)
        if event.auto_render:
            await self._auto_render(event)

    async def _auto_render(self, event: ScriptGenerated) -> None:
        # The stored script decides: on a redelivery it may have been edited since (then it waits for approval).
        generated = event.script
        script = await self._store.get_script(generated.script_id)
        if script is None or script.version != generated.version or script.status != ScriptStatus.APPROVED:
            log.info("auto-render skipped: the script changed since it was written", script_id=generated.script_id)
            return
        job_id = auto_render_job_id(script.script_id)
        options = RenderOptions.from_defaults(script.script_id, event.render_defaults)
        started = await self._jobs.start_render(script, options, job_id=job_id)
        if not started.created and started.job.job_id != job_id:
            log.warning(
                "auto-render did not start: the video already has an active job",
                script_id=script.script_id,
                video_id=script.video_id,
                active_job_id=started.job.job_id,
            )

    async def record_script_failed(self, event: ScriptFailed) -> None:
        await self._store.finish_script_request(event.script_id, ScriptRequestState.FAILED, event.error)
