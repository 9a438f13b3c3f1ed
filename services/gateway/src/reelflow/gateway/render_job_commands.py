"""Render-job commands and queries: start a lesson or ranking job, cancel, retry, and read jobs and their assets.

Every command writes the job and the events it owes the bus in one MongoDB write (see ``outbox``), then tries to
publish them at once; whatever it could not publish, the relay does. So an accepted command takes effect even if
NATS is down at that moment, and a refused one changed nothing. Terminal states are never written here: they come
from the terminal events the ledger projects (``event_projector``), so a cancel is *asked for* here and the job is
CANCELED once ``rf.render.cancel`` has won its attempt.
"""

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from pymongo.errors import DuplicateKeyError

from reelflow.contracts import (
    TERMINAL_STATUSES,
    Asset,
    AssetKind,
    JobStatus,
    RankingSpec,
    RenderCancel,
    RenderJob,
    RenderRequested,
    RenderSpec,
    Script,
    ScriptStatus,
    Voice,
    retry_job,
)
from reelflow.gateway.job_media import lesson_uploads
from reelflow.gateway.job_views import RenderJobView, view_of
from reelflow.gateway.outbox import OutboxRelay
from reelflow.gateway.projection import job_from_request
from reelflow.gateway.refusals import ConflictError, NotFoundError
from reelflow.gateway.render_checks import RenderChecks
from reelflow.gateway.render_specs import RankingOptions, RenderOptions, lesson_spec_for, ranking_spec_for
from reelflow.gateway.script_commands import ScriptCommands
from reelflow.gateway.store import BACKEND_ORIGIN, JOBS, JobChange, LedgerStore
from reelflow.gateway.workspace_lexicons import WorkspaceLexicons

log = structlog.get_logger("reelflow.render_jobs")
# How long a cancel waits for the ledger to record the job CANCELED before it answers 202 (asked, not yet done).
CANCEL_SETTLE_SEC = 2.0
CANCEL_POLL_SEC = 0.1


@dataclass(frozen=True)
class StartedJob:
    job: RenderJobView
    created: bool  # False: the video's active job (or the job already started under that id) is returned


@dataclass(frozen=True)
class CancelOutcome:
    job: RenderJobView
    done: bool  # True: the job is CANCELED now; False: the cancel is on its way


class RenderJobCommands:
    def __init__(
        self,
        store: LedgerStore,
        relay: OutboxRelay,
        checks: RenderChecks,
        scripts: ScriptCommands,
        *,
        lexicons: WorkspaceLexicons | None = None,
    ) -> None:
        self._store = store
        self._relay = relay
        self._checks = checks
        self._scripts = scripts
        self._lexicons = lexicons  # each workspace's pronunciation lexicon, laid under a lesson's own

    # ---- starting jobs ----------------------------------------------------------------------------------------
    async def start_lesson(self, video_id: str, options: RenderOptions) -> StartedJob:
        """A job for the video's approved script, after every submit-time check of its options."""
        script = await self._scripts.require_script(options.script_id)
        if script.video_id != video_id:
            raise ConflictError(f"script {options.script_id} belongs to video {script.video_id}, not {video_id}")
        if script.status != ScriptStatus.APPROVED:
            raise _not_renderable(script)
        await self._checks.lesson(
            voice=options.voice,
            language=script.options.language,
            music=options.music,
            publish=options.publish,
            callback_url=options.callback_url,
            uploads=lesson_uploads(script.script, options.brand, script_field="script"),
            workspace_id=await self._checks.workspace_of(video_id),
        )
        return await self.start_render(script, options)

    async def start_render(self, script: Script, options: RenderOptions, *, job_id: str | None = None) -> StartedJob:
        """Start a job for an approved script; while the video has an active job, that job is returned instead.

        ``job_id`` names the job to start (auto-render derives it from the script); when that job already exists it
        is returned as it is.
        """
        if script.status != ScriptStatus.APPROVED:
            raise _not_renderable(script)
        if job_id is not None:
            existing = await self._store.get_job_view(job_id)
            if existing is not None:
                return StartedJob(existing, created=False)
        if self._lexicons is not None:
            voice = await self._lexicons.voice_for_video(script.video_id, options.voice or Voice())
            options = options.model_copy(update={"voice": voice})
        return await self._start_job(
            script.video_id,
            lesson_spec_for(script, options),
            job_id=job_id,
            script_id=script.script_id,
            script_version=script.version,
        )

    async def start_ranking(self, options: RankingOptions) -> StartedJob:
        """A ranking short from uploaded clips; while the video has an active job, that job is returned instead.

        Narrated labels are read with the workspace's lexicon under the request's own, as lessons are."""
        spec = ranking_spec_for(options)
        await self._checks.ranking(spec, workspace_id=await self._checks.workspace_of(options.video_id))
        if self._lexicons is not None and spec.voice is not None:
            voice = await self._lexicons.voice_for_video(options.video_id, spec.voice)
            spec = spec.model_copy(update={"voice": voice})
        return await self._start_job(options.video_id, spec)

    async def start_backend_job(
        self, job_id: str, video_id: str, spec: RenderSpec, *, script_id: str, script_version: int | None
    ) -> StartedJob:
        """Start the job the Spring backend named with the spec it gave (checked by the caller), recorded as the
        backend's so its end is called back. The job that already has this id is returned as it is; another
        active job of the video is a conflict (the backend asked for this job, not that one)."""
        existing = await self._store.get_job_view(job_id)
        if existing is not None:
            return StartedJob(existing, created=False)
        workspace_id = await self._checks.workspace_of(video_id)
        if isinstance(spec, RankingSpec):
            await self._checks.ranking(spec, workspace_id=workspace_id)
        else:
            await self._checks.lesson(
                voice=spec.voice,
                language=spec.language,
                music=spec.music,
                publish=spec.publish,
                callback_url=spec.callback_url,
                uploads=lesson_uploads(spec.script, spec.brand, script_field="script"),
                within="spec",
                workspace_id=workspace_id,
            )
        started = await self._start_job(
            video_id, spec, job_id=job_id, script_id=script_id, script_version=script_version, origin=BACKEND_ORIGIN
        )
        if started.job.job_id != job_id:
            raise ConflictError(
                f"video {video_id} already has an active job {started.job.job_id}; cancel it or wait for it to end",
                details={"active_job_id": started.job.job_id},
            )
        return started

    async def _start_job(
        self,
        video_id: str,
        spec: RenderSpec,
        *,
        job_id: str | None = None,
        script_id: str | None = None,
        script_version: int | None = None,
        origin: str | None = None,
    ) -> StartedJob:
        """Claim the video's active-job slot, then record the QUEUED job with the ``rf.render.requested`` it owes."""
        job_id = job_id or uuid.uuid4().hex
        holder = await self._store.claim_active(video_id, job_id)
        if holder is not None:
            active = await self._store.get_job_view(holder)
            if active is None:
                raise ConflictError(
                    f"another job of video {video_id} is being started right now; send the request again",
                    details={"active_job_id": holder},
                )
            return StartedJob(active, created=False)
        spec = await self._checks.with_publish_channel(spec, video_id)
        request = RenderRequested(job_id=job_id, video_id=video_id, script_id=script_id, attempt=1, spec=spec)
        job = job_from_request(request, at=datetime.now(UTC))
        try:
            await self._store.insert_job(job, script_version=script_version, origin=origin, owed=[request])
        except DuplicateKeyError:
            existing = await self._store.get_job_view(job_id)
            if existing is None:
                raise
            return StartedJob(existing, created=False)
        log.info("render job started", job_id=job_id, template=spec.template, script_id=script_id)
        await self._relay.relay_now(JOBS, job_id)
        return StartedJob(view_of(job, script_version), created=True)

    # ---- cancel and retry -------------------------------------------------------------------------------------
    async def cancel(self, job_id: str) -> CancelOutcome:
        """Ask for the running attempt to be canceled; wait briefly for the ledger to record it.

        The cancel is owed by the job document until JetStream has it. A job that ended before the cancel took
        effect (it completed or failed first) is refused, as is a job that had already ended.
        """
        job = await self.require_job(job_id)
        _refuse_ended(job, "canceled")
        cancel = RenderCancel(job_id=job_id, attempt=job.attempt)

        def ask(current: RenderJob | None) -> JobChange | None:
            if current is None or current.attempt != job.attempt or current.status in TERMINAL_STATUSES:
                return None
            return JobChange(current, owed=(cancel,))

        await self._store.update_job(job_id, ask)
        await self._relay.relay_now(JOBS, job_id)
        deadline = time.monotonic() + CANCEL_SETTLE_SEC
        while True:
            view = await self.job(job_id)
            if view.attempt != job.attempt or view.status in TERMINAL_STATUSES or time.monotonic() >= deadline:
                return _cancel_outcome(view, job.attempt)
            await asyncio.sleep(CANCEL_POLL_SEC)

    async def retry(self, job_id: str) -> RenderJobView:
        """FAILED|CANCELED → QUEUED as attempt + 1 with the same spec, owing its ``rf.render.requested``."""
        job = await self.require_job(job_id)
        retry_job(job, at=datetime.now(UTC))  # refuses at once what can never be retried, before claiming a slot
        if job.video_id is not None:
            holder = await self._store.claim_active(job.video_id, job_id)
            if holder is not None:
                raise ConflictError(
                    f"video {job.video_id} already has an active job {holder}; cancel it or wait for it to end",
                    details={"active_job_id": holder},
                )

        def retried(current: RenderJob | None) -> JobChange | None:
            if current is None or current.attempt != job.attempt:
                return None  # someone else retried (or it vanished) meanwhile
            again = retry_job(current, at=datetime.now(UTC))
            return JobChange(again, owed=(_request_of(again),))

        current, changed = await self._store.update_job(job_id, retried)
        if current is None or not changed:
            raise ConflictError(f"render job {job_id} was retried by someone else meanwhile; read it again")
        await self._relay.relay_now(JOBS, job_id)
        return await self.job(job_id)

    # ---- queries ----------------------------------------------------------------------------------------------
    async def require_job(self, job_id: str) -> RenderJob:
        job = await self._store.get_job(job_id)
        if job is None:
            raise _missing_job(job_id)
        return job

    async def find_job(self, job_id: str) -> RenderJob | None:
        return await self._store.get_job(job_id)

    async def job(self, job_id: str) -> RenderJobView:
        view = await self._store.get_job_view(job_id)
        if view is None:
            raise _missing_job(job_id)
        return view

    async def jobs_of_video(self, video_id: str) -> list[RenderJobView]:
        return await self._store.jobs_of_video(video_id)

    async def latest_job_id(self, video_id: str) -> str | None:
        """The video's newest render job, the one its progress follows; None while it has none."""
        jobs = await self.jobs_of_video(video_id)
        return jobs[0].job_id if jobs else None

    async def asset(self, job_id: str, kind: AssetKind) -> Asset:
        job = await self.require_job(job_id)
        found = next((asset for asset in job.assets if asset.kind == kind), None)
        if found is None:
            raise NotFoundError(f"render job {job_id} has no {kind.value} asset (status {job.status})")
        return found


def _cancel_outcome(view: RenderJobView, attempt: int) -> CancelOutcome:
    """What a cancel of ``attempt`` achieved, judged from the job as it stands now."""
    if view.attempt != attempt:
        raise ConflictError(
            f"render job {view.job_id} attempt {attempt} ended and was retried as attempt {view.attempt} meanwhile; "
            "cancel again to cancel that one",
            details={"status": view.status.value, "attempt": view.attempt},
        )
    if view.status == JobStatus.CANCELED:
        return CancelOutcome(view, done=True)
    if view.status in TERMINAL_STATUSES:
        raise ConflictError(
            f"render job {view.job_id} ended {view.status} before the cancel took effect",
            details={"status": view.status.value, "attempt": attempt},
        )
    return CancelOutcome(view, done=False)


def _request_of(job: RenderJob) -> RenderRequested:
    if job.spec is None or job.video_id is None:
        raise ValueError(f"job {job.job_id} has no spec to request")
    return RenderRequested(
        job_id=job.job_id, video_id=job.video_id, script_id=job.script_id, attempt=job.attempt, spec=job.spec
    )


def _refuse_ended(job: RenderJob, action: str) -> None:
    if job.status in TERMINAL_STATUSES:
        raise ConflictError(
            f"render job {job.job_id} is already {job.status} and can no longer be {action}",
            details={"status": job.status.value, "attempt": job.attempt},
        )


def _missing_job(job_id: str) -> NotFoundError:
    return NotFoundError(f"render job {job_id} does not exist")


def _not_renderable(script: Script) -> ConflictError:
    """Why a script cannot be rendered yet, naming the call that fixes it."""
    if script.status == ScriptStatus.ARCHIVED:
        message = f"script {script.script_id} is archived and can no longer be rendered"
    else:
        message = (
            f"script {script.script_id} version {script.version} is {script.status.value}; a render job needs an "
            f"APPROVED script: approve it with POST /api/scripts/{script.script_id}/approve"
        )
    return ConflictError(
        message, details={"script_id": script.script_id, "version": script.version, "status": script.status.value}
    )
