"""The ledger: the single writer of job and script state, projecting every bus event into MongoDB."""

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog

from reelflow.contracts import (
    STORED_EVENTS,
    TERMINAL_STATUSES,
    Event,
    ProgressUpdate,
    RenderCancel,
    RenderCompleted,
    RenderJob,
    RenderRequested,
    Script,
    ScriptFailed,
    ScriptGenerated,
    ScriptRequested,
    ScriptStatus,
    Step,
    retry_job,
)
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.projection import finalize, is_ready_to_finalize, project_event, project_progress
from reelflow.gateway.render_specs import RenderOptions, lesson_spec_for
from reelflow.gateway.store import LedgerStore, ScriptRequestState
from reelflow.runtime.bus import EventBus
from reelflow.runtime.failures import InvalidScriptError, ReelflowError

log = structlog.get_logger("reelflow.ledger")
EVENTS_BY_SUBJECT: dict[str, type[Event]] = {event.subject: event for event in STORED_EVENTS}


class LedgerError(ReelflowError):
    """A request the ledger refuses; ``api_code`` and ``status`` say how the API reports it."""

    def __init__(self, message: str, *, api_code: ApiErrorCode, status: int) -> None:
        super().__init__(message, retryable=False)
        self.api_code = api_code
        self.status = status


def parse_stored_event(subject: str, body: dict[str, Any]) -> Event:
    event_type = EVENTS_BY_SUBJECT.get(subject)
    if event_type is None:
        raise InvalidScriptError(f"the ledger does not know subject {subject!r}")
    return event_type.model_validate(body)


def job_update(job: RenderJob, message: str = "") -> dict[str, Any]:
    """What progress listeners receive: the job's status, step and progress."""
    return {
        "job_id": job.job_id,
        "attempt": job.attempt,
        "status": job.status.value,
        "step": job.step.value if job.step else None,
        "progress": job.progress,
        "message": message,
        "error": job.error.model_dump(mode="json") if job.error else None,
        "at": job.updated_at.isoformat(),
    }


class Ledger:
    def __init__(self, store: LedgerStore, bus: EventBus, hub: ProgressHub) -> None:
        self.store = store
        self._bus = bus
        self._hub = hub

    # ---- scripts -----------------------------------------------------------------------------------------------
    async def request_script(self, request: ScriptRequested) -> None:
        await self.store.insert_script_request(request.script_id, request.video_id, datetime.now(UTC))
        await self._bus.publish(request)

    async def record_script_generated(self, event: ScriptGenerated) -> None:
        script = event.script
        if event.auto_render:
            script = script.model_copy(update={"status": ScriptStatus.APPROVED})
        created = await self.store.save_script(script)
        await self.store.finish_script_request(script.script_id, ScriptRequestState.DONE, None)
        if created and event.auto_render:
            await self.start_render(script, RenderOptions.from_defaults(script.script_id, event.render_defaults))

    async def record_script_failed(self, event: ScriptFailed) -> None:
        await self.store.finish_script_request(event.script_id, ScriptRequestState.FAILED, event.error)

    async def approve_script(self, script_id: str) -> Script:
        script = await self.require_script(script_id)
        if script.status == ScriptStatus.ARCHIVED:
            raise LedgerError(
                f"script {script_id} is archived; approve its latest version instead",
                api_code=ApiErrorCode.CONFLICT,
                status=409,
            )
        if script.status != ScriptStatus.APPROVED:
            script = script.model_copy(update={"status": ScriptStatus.APPROVED})
            await self.store.replace_script(script)
        return script

    async def require_script(self, script_id: str) -> Script:
        script = await self.store.get_script(script_id)
        if script is None:
            raise LedgerError(f"script {script_id} does not exist", api_code=ApiErrorCode.NOT_FOUND, status=404)
        return script

    # ---- render jobs -------------------------------------------------------------------------------------------
    async def start_render(self, script: Script, options: RenderOptions) -> tuple[RenderJob, bool]:
        """Start a job for an approved script; while the video has an active job, that job is returned instead."""
        if script.status != ScriptStatus.APPROVED:
            raise LedgerError(
                f"script {script.script_id} is {script.status}; approve it first "
                f"(POST /api/scripts/{script.script_id}/approve)",
                api_code=ApiErrorCode.CONFLICT,
                status=409,
            )
        spec = lesson_spec_for(script, options)
        now = datetime.now(UTC)
        job_id = uuid.uuid4().hex
        holder = await self.store.claim_active(script.video_id, job_id)
        if holder is not None:
            existing = await self.store.get_job(holder)
            if existing is not None:
                return existing, False
        request = RenderRequested(
            job_id=job_id, video_id=script.video_id, script_id=script.script_id, attempt=1, spec=spec
        )
        job, _ = await self.store.update_job(job_id, lambda current: project_event(current, request, at=now))
        await self._bus.publish(request)
        if job is None:
            raise ReelflowError(f"job {job_id} could not be recorded")
        return job, True

    async def require_job(self, job_id: str) -> RenderJob:
        job = await self.store.get_job(job_id)
        if job is None:
            raise LedgerError(f"render job {job_id} does not exist", api_code=ApiErrorCode.NOT_FOUND, status=404)
        return job

    async def cancel(self, job_id: str) -> RenderJob:
        job = await self.require_job(job_id)
        if job.status in TERMINAL_STATUSES:
            raise LedgerError(
                f"render job {job_id} is already {job.status}", api_code=ApiErrorCode.CONFLICT, status=409
            )
        cancel = RenderCancel(job_id=job_id, attempt=job.attempt)
        await self._bus.publish(cancel)
        await self.record_render_event(cancel)
        return await self.require_job(job_id)

    async def retry(self, job_id: str) -> RenderJob:
        job = await self.require_job(job_id)
        holder = await self.store.claim_active(job.video_id, job_id)
        if holder is not None and holder != job_id:
            raise LedgerError(
                f"video {job.video_id} already has an active job {holder}", api_code=ApiErrorCode.CONFLICT, status=409
            )
        now = datetime.now(UTC)
        retried, changed = await self.store.update_job(
            job_id, lambda current: retry_job(current, at=now) if current else None
        )
        if retried is None or not changed:
            raise LedgerError(f"render job {job_id} could not be retried", api_code=ApiErrorCode.CONFLICT, status=409)
        await self._bus.publish(
            RenderRequested(
                job_id=job_id,
                video_id=retried.video_id,
                script_id=retried.script_id,
                attempt=retried.attempt,
                spec=retried.spec,
            )
        )
        return retried

    # ---- projections of bus events -----------------------------------------------------------------------------
    async def record_render_event(self, event: Event) -> None:
        job_id = event.ce_subject()
        now = datetime.now(UTC)
        job, changed = await self.store.update_job(job_id, lambda current: project_event(current, event, at=now))
        if job is None:
            log.warning("event for an unknown job ignored", job_id=job_id, event_type=event.event_type)
            return
        if changed:
            self._hub.announce(job_id, job_update(job))
            if job.status in TERMINAL_STATUSES:
                await self.store.release_active(job.video_id, job_id)
        if is_ready_to_finalize(job):
            await self._finalize(job_id)

    async def _finalize(self, job_id: str) -> None:
        now = datetime.now(UTC)
        job, changed = await self.store.update_job(
            job_id, lambda current: finalize(current, at=now) if current and is_ready_to_finalize(current) else None
        )
        if job is None or not changed:
            return
        await self.store.release_active(job.video_id, job_id)
        await self._bus.publish(
            RenderCompleted(
                job_id=job.job_id,
                video_id=job.video_id,
                script_id=job.script_id,
                attempt=job.attempt,
                assets=job.assets,
                publications=job.publications,
                duration_sec=job.duration_sec,
            )
        )
        await self._bus.publish(
            ProgressUpdate(job_id=job_id, attempt=job.attempt, step=Step.FINALIZE, progress=100, message="done", at=now)
        )
        self._hub.announce(job_id, job_update(job, "done"))
        log.info("job completed", job_id=job_id)

    async def record_progress(self, update: ProgressUpdate) -> None:
        self._hub.announce(
            update.job_id,
            {
                "job_id": update.job_id,
                "attempt": update.attempt,
                "status": "PROCESSING",
                "step": update.step.value,
                "progress": update.progress,
                "message": update.message,
                "error": None,
                "at": update.at.isoformat(),
            },
        )
        if update.step == Step.FINALIZE:
            return
        await self.store.update_job(update.job_id, lambda current: project_progress(current, update))
