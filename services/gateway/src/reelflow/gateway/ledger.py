"""The ledger: the single writer of job and script state, projecting every bus event into MongoDB."""

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
    RankingSpec,
    RenderCancel,
    RenderCompleted,
    RenderJob,
    RenderRequested,
    RenderSpec,
    Script,
    ScriptFailed,
    ScriptGenerated,
    ScriptRequested,
    ScriptStatus,
    Step,
    retry_job,
)
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.job_views import RenderJobView, view_of
from reelflow.gateway.progress_hub import ProgressHub
from reelflow.gateway.projection import (
    finalize,
    is_ready_to_finalize,
    job_from_request,
    project_event,
    project_progress,
)
from reelflow.gateway.refusals import LedgerError
from reelflow.gateway.render_specs import RenderOptions, lesson_spec_for
from reelflow.gateway.script_versions import (
    ScriptEdit,
    ScriptHistory,
    approved,
    history_of,
    newest_first,
    next_version,
    version_of,
)
from reelflow.gateway.store import LedgerStore, ScriptRequestState
from reelflow.runtime.attempts import ClaimOutcome
from reelflow.runtime.bus import TERMINAL_STATUS_BY_EVENT, EventBus, attempt_of
from reelflow.runtime.failures import AttemptFinishedError, InvalidScriptError

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
        """Save the new script as a DRAFT, or, when auto-render was asked for, APPROVED with its job started."""
        script = event.script
        if event.auto_render:
            script = script.model_copy(update={"status": ScriptStatus.APPROVED})
        await self.store.save_script(script)
        await self.store.keep_script_version(script)
        await self.store.finish_script_request(script.script_id, ScriptRequestState.DONE, None)
        if event.auto_render:
            await self._auto_render(script, RenderOptions.from_defaults(script.script_id, event.render_defaults))

    async def _auto_render(self, generated: Script, options: RenderOptions) -> None:
        # The stored script decides: on a redelivery it may have been edited since (then it waits for approval).
        script = await self.require_script(generated.script_id)
        if script.version != generated.version or script.status != ScriptStatus.APPROVED:
            log.info("auto-render skipped: the script changed since it was written", script_id=script.script_id)
            return
        job, created = await self.start_render(script, options, job_id=auto_render_job_id(script.script_id))
        if not created and job.job_id != auto_render_job_id(script.script_id):
            log.warning(
                "auto-render did not start: the video already has an active job",
                script_id=script.script_id,
                video_id=script.video_id,
                active_job_id=job.job_id,
            )

    async def record_script_failed(self, event: ScriptFailed) -> None:
        await self.store.finish_script_request(event.script_id, ScriptRequestState.FAILED, event.error)

    async def edit_script(self, script_id: str, edit: ScriptEdit, *, expected_version: int | None) -> Script:
        """Make the next DRAFT version of the script; the version it supersedes stays readable."""
        now = datetime.now(UTC)
        # Keep the version being superseded before replacing it, so history never has a gap.
        await self.store.keep_script_version(await self.require_script(script_id))
        changed = await self.store.update_script(
            script_id, lambda current: next_version(current, edit, expected=expected_version, at=now)
        )
        if changed is None:
            raise await self._script_not_found(script_id)
        before, after = changed
        if after.version != before.version:
            await self.store.keep_script_version(before)
            await self.store.keep_script_version(after)
            log.info("script edited", script_id=script_id, version=after.version)
        return after

    async def approve_script(self, script_id: str, *, expected_version: int | None = None) -> Script:
        """Approve the latest version; naming an older version in ``expected_version`` is refused."""
        changed = await self.store.update_script(
            script_id, lambda current: approved(current, expected=expected_version)
        )
        if changed is None:
            raise await self._script_not_found(script_id)
        return changed[1]

    async def require_script(self, script_id: str) -> Script:
        script = await self.store.get_script(script_id)
        if script is None:
            raise await self._script_not_found(script_id)
        return script

    async def script_version(self, script_id: str, version: int) -> Script:
        latest = await self.require_script(script_id)
        kept = None if version == latest.version else await self.store.kept_script_version(script_id, version)
        return version_of(latest, version, kept)

    async def script_history(self, script_id: str) -> ScriptHistory:
        latest = await self.require_script(script_id)
        return history_of(latest, await self.store.kept_script_versions(script_id))

    async def scripts_of_video(self, video_id: str) -> list[ScriptHistory]:
        latest = await self.store.scripts_of_video(video_id)
        kept = await self.store.kept_script_versions_of_video(video_id)
        return newest_first(history_of(script, kept.get(script.script_id, [])) for script in latest)

    async def _script_not_found(self, script_id: str) -> LedgerError:
        """404, or 409 NOT_READY while the script is still being written (so the caller knows to wait)."""
        request = await self.store.script_request(script_id)
        if request is not None and request[0] == ScriptRequestState.PENDING:
            return LedgerError(
                f"script {script_id} is still being written; try again when GET /api/scripts/{script_id} answers 200",
                api_code=ApiErrorCode.NOT_READY,
                status=409,
            )
        return LedgerError(f"script {script_id} does not exist", api_code=ApiErrorCode.NOT_FOUND, status=404)

    # ---- render jobs -------------------------------------------------------------------------------------------
    async def start_render(
        self, script: Script, options: RenderOptions, *, job_id: str | None = None
    ) -> tuple[RenderJobView, bool]:
        """Start a job for an approved script; while the video has an active job, that job is returned instead.

        ``job_id`` names the job to start; when that job already exists it is returned as it is.
        """
        if script.status != ScriptStatus.APPROVED:
            raise _not_renderable(script)
        if job_id is not None:
            existing = await self.store.get_job_view(job_id)
            if existing is not None:
                return existing, False
        return await self._start_job(
            script.video_id,
            lesson_spec_for(script, options),
            job_id=job_id,
            script_id=script.script_id,
            script_version=script.version,
        )

    async def start_ranking(self, video_id: str, spec: RankingSpec) -> tuple[RenderJobView, bool]:
        """Start a ranking short for the video; while the video has an active job, that job is returned instead."""
        return await self._start_job(video_id, spec)

    async def _start_job(
        self,
        video_id: str,
        spec: RenderSpec,
        *,
        job_id: str | None = None,
        script_id: str | None = None,
        script_version: int | None = None,
    ) -> tuple[RenderJobView, bool]:
        """Claim the video's active-job slot, record the QUEUED job and publish its ``rf.render.requested``."""
        now = datetime.now(UTC)
        job_id = job_id or uuid.uuid4().hex
        holder = await self.store.claim_active(video_id, job_id)
        if holder is not None:
            active = await self.store.get_job_view(holder)
            if active is not None:
                return active, False
        request = RenderRequested(job_id=job_id, video_id=video_id, script_id=script_id, attempt=1, spec=spec)
        job = job_from_request(request, at=now)
        await self.store.insert_job(job, script_version=script_version)
        await self._bus.publish(request)
        log.info(
            "render job started",
            job_id=job_id,
            template=spec.template,
            script_id=script_id,
            script_version=script_version,
        )
        return view_of(job, script_version), True

    async def require_job(self, job_id: str) -> RenderJob:
        job = await self.store.get_job(job_id)
        if job is None:
            raise _missing_job(job_id)
        return job

    async def require_job_view(self, job_id: str) -> RenderJobView:
        job = await self.store.get_job_view(job_id)
        if job is None:
            raise _missing_job(job_id)
        return job

    async def cancel(self, job_id: str) -> RenderJobView:
        job = await self.require_job(job_id)
        if job.status in TERMINAL_STATUSES:
            raise LedgerError(
                f"render job {job_id} is already {job.status}", api_code=ApiErrorCode.CONFLICT, status=409
            )
        cancel = RenderCancel(job_id=job_id, attempt=job.attempt)
        try:
            await self._bus.publish(cancel)
        except AttemptFinishedError as finished:
            raise LedgerError(
                f"render job {job_id} has already ended; {finished.message}", api_code=ApiErrorCode.CONFLICT, status=409
            ) from finished
        await self.record_render_event(cancel)
        return await self.require_job_view(job_id)

    async def retry(self, job_id: str) -> RenderJobView:
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
        return await self.require_job_view(job_id)

    # ---- projections of bus events -----------------------------------------------------------------------------
    async def record_render_event(self, event: Event) -> None:
        job_id = event.ce_subject()
        if not await self._won_its_attempt(event):
            log.info("terminal event ignored: its attempt ended otherwise", job_id=job_id, event_type=event.event_type)
            return
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

    async def _won_its_attempt(self, event: Event) -> bool:
        """A terminal event counts only if its outcome finished the attempt (the backend may publish one without
        claiming it; the ledger claims on its behalf, and a losing outcome is ignored)."""
        terminal = TERMINAL_STATUS_BY_EVENT.get(type(event))
        attempt = attempt_of(event)
        if terminal is None or attempt is None or self._bus.attempts is None:
            return True
        claim = await self._bus.attempts.claim(*attempt, terminal)
        return claim.outcome != ClaimOutcome.LOST

    async def _finalize(self, job_id: str) -> None:
        """Publish the job's ``rf.render.completed`` (claiming its attempt), then record it COMPLETED.

        Claiming first means a cancel or failure that finished the attempt a moment earlier wins, and the job is
        never shown COMPLETED while the bus says otherwise.
        """
        now = datetime.now(UTC)
        job = await self.store.get_job(job_id)
        if job is None or not is_ready_to_finalize(job):
            return
        completed = RenderCompleted(
            job_id=job.job_id,
            video_id=job.video_id,
            script_id=job.script_id,
            attempt=job.attempt,
            assets=job.assets,
            publications=job.publications,
            duration_sec=job.duration_sec,
        )
        try:
            await self._bus.publish(completed)
        except AttemptFinishedError:
            if self._bus.attempts is None or await self._bus.attempts.finished(job_id, job.attempt) != (
                JobStatus.COMPLETED
            ):
                return
        job, changed = await self.store.update_job(
            job_id, lambda current: finalize(current, at=now) if current and is_ready_to_finalize(current) else None
        )
        if job is None or not changed:
            return
        await self.store.release_active(job.video_id, job_id)
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


def _missing_job(job_id: str) -> LedgerError:
    return LedgerError(f"render job {job_id} does not exist", api_code=ApiErrorCode.NOT_FOUND, status=404)


def _not_renderable(script: Script) -> LedgerError:
    """Why a script cannot be rendered yet, naming the call that fixes it."""
    if script.status == ScriptStatus.ARCHIVED:
        message = f"script {script.script_id} is archived and can no longer be rendered"
    else:
        message = (
            f"script {script.script_id} version {script.version} is {script.status.value}; a render job needs an "
            f"APPROVED script: approve it with POST /api/scripts/{script.script_id}/approve"
        )
    return LedgerError(
        message,
        api_code=ApiErrorCode.CONFLICT,
        status=409,
        details={"script_id": script.script_id, "version": script.version, "status": script.status.value},
    )
