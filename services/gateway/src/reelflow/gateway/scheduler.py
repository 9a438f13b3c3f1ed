"""The scheduler: a background loop in every gateway replica that fires schedules' due items; one replica at a time
runs it, by holding a lease in MongoDB.

Each pass, under the lease (``schedule_store``):

1. *Fire*: every schedule with something due has its due items marked fired, in one compare-and-swap of its
   document (``schedules.fired``), so an item is fired once even when two replicas race (a lease that ran out
   mid-pass) or a restart finds the due time long past (it fires then, once; a cron cadence fires once however many
   occurrences it missed).
2. *Follow*: every fired item still open gets what it needs next. No script request yet: it is made, under the
   script id derived from the schedule and the item, so a replica that died between marking and asking leaves it to
   the next pass, and asking twice records one request. An approved script without a job (a schedule without
   ``auto_approve``, once someone approves): its render is started under the job id auto-render uses, so the
   ledger's auto-render and this never start two. The item is closed once its job exists or its script failed.

Everything is in MongoDB, so the loop survives restarts. The clock is injected: the tests move it instead of
sleeping.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from pymongo.errors import DuplicateKeyError

from reelflow.contracts import RenderDefaults, Script, ScriptStatus
from reelflow.gateway.event_projector import auto_render_job_id
from reelflow.gateway.ownership import Access, VideoKind
from reelflow.gateway.refusals import GatewayError
from reelflow.gateway.render_job_commands import RenderJobCommands
from reelflow.gateway.render_specs import RenderOptions
from reelflow.gateway.schedule_store import ScheduleStore
from reelflow.gateway.schedules import (
    fired,
    render_defaults_of,
    script_id_of,
    script_request_of,
    video_id_of,
    with_item,
)
from reelflow.gateway.script_commands import GenerateScript, ScriptCommands
from reelflow.gateway.store import LedgerStore, ScriptRequestState
from reelflow.gateway.stored_times import epoch_now

log = structlog.get_logger("reelflow.scheduler")
Document = dict[str, Any]
Clock = Callable[[], float]
# How many schedules one pass reads of those due, and of those with open items.
PASS_BATCH = 100


@dataclass(frozen=True)
class SchedulerPolicy:
    """How often the loop looks, and how long its lease lasts (from the gateway's settings)."""

    poll_sec: float = 5.0
    lease_sec: float = 30.0


@dataclass
class SchedulerPass:
    """What one pass did (for the log and the tests)."""

    held_lease: bool = False
    fired: list[str] = field(default_factory=list)  # "schedule_id/item_id" of each item this pass fired
    requested: list[str] = field(default_factory=list)  # script ids this pass asked for
    renders_started: list[str] = field(default_factory=list)  # job ids this pass started


class ScheduledWork(Protocol):
    """What a fired item sets off in the rest of the gateway."""

    async def request_script(
        self, workspace_id: str, video_id: str, title: str, script_id: str, request: GenerateScript
    ) -> None:
        """Record the script request (raises ``DuplicateKeyError`` when that script was asked for already)."""
        ...

    async def start_render(self, script: Script, render: RenderDefaults, job_id: str) -> str:
        """Start the render of an approved script under ``job_id``; returns the job the video has (that one, or
        the video's active job)."""
        ...


class GatewayWork:
    """:class:`ScheduledWork` through the gateway's own commands: the video claimed for the schedule's workspace,
    the script request with its outbox, the render job with its checks."""

    def __init__(self, access: Access, scripts: ScriptCommands, jobs: RenderJobCommands) -> None:
        self._access = access
        self._scripts = scripts
        self._jobs = jobs

    async def request_script(
        self, workspace_id: str, video_id: str, title: str, script_id: str, request: GenerateScript
    ) -> None:
        await self._access.registry.claim(video_id, workspace_id, VideoKind.LESSON, title)
        await self._scripts.request_script(video_id, request, script_id=script_id)
        await self._access.note_script(video_id, script_id)

    async def start_render(self, script: Script, render: RenderDefaults, job_id: str) -> str:
        options = RenderOptions.from_defaults(script.script_id, render)
        started = await self._jobs.start_render(script, options, job_id=job_id)
        return started.job.job_id


def _fired_ids(document: Document) -> set[str]:
    return {item["item_id"] for item in document["items"] if item["fired_at"] is not None}


class Scheduler:
    def __init__(
        self,
        store: ScheduleStore,
        ledger: LedgerStore,
        work: ScheduledWork,
        policy: SchedulerPolicy,
        *,
        clock: Clock = epoch_now,
        holder: str | None = None,
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._work = work
        self._policy = policy
        self._clock = clock
        self.holder = holder or uuid.uuid4().hex
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Look at once (a schedule was made or changed in this replica)."""
        self._wake.set()

    async def run_once(self) -> SchedulerPass:
        """One pass: take or renew the lease; holding it, fire what is due and follow what is open."""
        now = self._clock()
        report = SchedulerPass()
        report.held_lease = await self._store.hold_lease(self.holder, now=now, until=now + self._policy.lease_sec)
        if not report.held_lease:
            return report
        await self.fire_due(report)
        await self.follow_open(report)
        return report

    async def fire_due(self, report: SchedulerPass) -> None:
        """Mark every due item fired (a compare-and-swap per schedule: whoever writes first fires it)."""
        now = self._clock()
        for document in await self._store.due(now, PASS_BATCH):
            newly = await self._fire(document["_id"], now)
            for item_id in newly:
                log.info("schedule item fired", schedule_id=document["_id"], item_id=item_id)
            report.fired += [f"{document['_id']}/{item_id}" for item_id in newly]

    async def _fire(self, schedule_id: str, now: float) -> list[str]:
        """The ids of the items this call marked fired (none when another writer marked them first)."""
        newly: list[str] = []

        def fire(current: Document) -> Document | None:
            changed = fired(current, now)
            newly[:] = sorted(_fired_ids(changed) - _fired_ids(current)) if changed is not None else []
            return changed

        await self._store.rewrite(schedule_id, fire)
        return newly

    async def follow_open(self, report: SchedulerPass) -> None:
        """Give each fired, open item what it needs next (its script request, or its render once approved)."""
        for document in await self._store.open(PASS_BATCH):
            for item in document["items"]:
                if item["open"]:
                    await self._follow(document, item, report)

    async def _follow(self, document: Document, item: Document, report: SchedulerPass) -> None:
        schedule_id, item_id = document["_id"], item["item_id"]
        script_id = script_id_of(schedule_id, item_id)
        video_id = video_id_of(schedule_id, item_id)
        script = await self._ledger.get_script(script_id)
        if script is None:
            request = await self._ledger.script_request(script_id)
            if request is None:
                await self._request(document, item, script_id, video_id, report)
            elif request.state == ScriptRequestState.FAILED:
                await self._close(schedule_id, item_id)
            return
        jobs = await self._ledger.jobs_of_video(video_id, limit=1)
        if jobs:
            await self._close(schedule_id, item_id, job_id=jobs[0].job_id)
        elif script.status == ScriptStatus.APPROVED:
            job_id = await self._work.start_render(
                script, render_defaults_of(document, item), auto_render_job_id(script_id)
            )
            report.renders_started.append(job_id)
            log.info("scheduled render started", schedule_id=schedule_id, item_id=item_id, job_id=job_id)
            await self._close(schedule_id, item_id, job_id=job_id)
        elif script.status == ScriptStatus.ARCHIVED:
            await self._close(schedule_id, item_id)
        # A DRAFT waits for its review.

    async def _request(
        self, document: Document, item: Document, script_id: str, video_id: str, report: SchedulerPass
    ) -> None:
        try:
            await self._work.request_script(
                document["workspace_id"], video_id, item["title"], script_id, script_request_of(document, item)
            )
        except DuplicateKeyError:
            return  # asked for already (by a replica that then died, or one racing this one)
        except GatewayError as refused:  # e.g. publishing no longer configured: the item fails, saying why
            error = {"code": str(refused.public_code), "message": refused.message}
            await self._close(document["_id"], item["item_id"], error=error)
            log.warning("scheduled item refused", schedule_id=document["_id"], item_id=item["item_id"], **error)
            return
        report.requested.append(script_id)
        log.info(
            "scheduled script requested", schedule_id=document["_id"], item_id=item["item_id"], script_id=script_id
        )

    async def _close(
        self, schedule_id: str, item_id: str, *, job_id: str | None = None, error: Document | None = None
    ) -> None:
        changes: Document = {"open": False, "job_id": job_id, "error": error}
        await self._store.rewrite(schedule_id, lambda current: with_item(current, item_id, changes))

    async def run(self) -> None:
        """The background loop: a pass after each kick and every ``poll_sec`` in any case; it never dies."""
        try:
            while True:
                try:
                    await self.run_once()
                except Exception as error:  # MongoDB unreachable, most likely: the schedules wait in it
                    log.warning("scheduler: pass failed; will try again", error=f"{type(error).__name__}: {error}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._policy.poll_sec)
                self._wake.clear()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._store.release_lease(self.holder))
