"""Schedule commands and queries: make, list, read, change and delete a workspace's schedules, each read with its
items' statuses from the ledger.

Everything that can be checked when a schedule is saved is checked then (422 naming the field): its zones and cron
cadence (in the request models), and its render options and publish target exactly like a render request's. A
schedule another workspace owns answers as if it did not exist (404).
"""

from collections.abc import Callable

from reelflow.contracts import RenderDefaults, ScriptOptions
from reelflow.gateway.accounts import Caller
from reelflow.gateway.refusals import InvalidRequestError, NotFoundError
from reelflow.gateway.render_checks import RenderChecks
from reelflow.gateway.schedule_bodies import (
    Document,
    ItemView,
    NewSchedule,
    PublishPlan,
    ScheduleChange,
    ScheduleView,
)
from reelflow.gateway.schedule_status import item_view, schedule_view
from reelflow.gateway.schedule_store import ScheduleStore
from reelflow.gateway.schedules import (
    changed_schedule,
    new_schedule_document,
    new_schedule_id,
    script_id_of,
    video_id_of,
)
from reelflow.gateway.store import LedgerStore
from reelflow.gateway.stored_times import epoch_now

MAX_SCHEDULES = 200


class ScheduleCommands:
    def __init__(
        self,
        store: ScheduleStore,
        ledger: LedgerStore,
        checks: RenderChecks,
        *,
        on_change: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = epoch_now,
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._checks = checks
        self._on_change = on_change
        self._clock = clock

    async def create(self, caller: Caller, body: NewSchedule) -> ScheduleView:
        await self._check_rendering(caller.workspace_id, body.options, body.render, body.publish)
        if len(await self._store.of_workspace(caller.workspace_id, MAX_SCHEDULES)) >= MAX_SCHEDULES:
            raise InvalidRequestError.of(
                [{"field": "name", "problem": f"a workspace holds at most {MAX_SCHEDULES} schedules; delete one"}]
            )
        schedule_id = new_schedule_id()
        document = new_schedule_document(body, caller.workspace_id, self._clock())
        await self._store.insert(schedule_id, document)
        self._on_change()
        return await self._view({"_id": schedule_id, **document})

    async def of_workspace(self, caller: Caller) -> list[ScheduleView]:
        return [await self._view(document) for document in await self._store.of_workspace(caller.workspace_id, 200)]

    async def get(self, caller: Caller, schedule_id: str) -> ScheduleView:
        return await self._view(await self._owned(caller, schedule_id))

    async def change(self, caller: Caller, schedule_id: str, body: ScheduleChange) -> ScheduleView:
        current = await self._owned(caller, schedule_id)
        if {"options", "render", "publish"} & body.model_fields_set:
            options = body.options or ScriptOptions.model_validate(current["options"])
            render = body.render or RenderDefaults.model_validate(current["render"])
            publish = body.publish if "publish" in body.model_fields_set else None
            await self._check_rendering(caller.workspace_id, options, render, publish)
        now = self._clock()

        def change(document: Document) -> Document:
            try:
                return changed_schedule(document, body, now)
            except ValueError as refused:
                name, _, problem = str(refused).partition(": ")
                raise InvalidRequestError.of([{"field": name, "problem": problem}]) from refused

        changed = await self._store.rewrite(schedule_id, change)
        if changed is None:
            raise NotFoundError(f"no schedule {schedule_id}")
        self._on_change()
        return await self._view(changed)

    async def delete(self, caller: Caller, schedule_id: str) -> None:
        """The schedule and what has not fired; videos its items made stay in the library."""
        await self._owned(caller, schedule_id)
        await self._store.delete(schedule_id)

    async def _owned(self, caller: Caller, schedule_id: str) -> Document:
        document = await self._store.get(schedule_id)
        if document is None or document["workspace_id"] != caller.workspace_id:
            raise NotFoundError(f"no schedule {schedule_id}")
        return document

    async def _check_rendering(
        self, workspace_id: str, options: ScriptOptions, render: RenderDefaults, publish: PublishPlan | None
    ) -> None:
        """Refuse render options or a publish target that could not work, as a render request would be."""
        if publish is not None:
            target = publish.target_for("(each item's title)", self._clock())
            problems = await self._checks.publish_problems(target, workspace_id)
            if problems:
                raise InvalidRequestError.of(problems)
        await self._checks.lesson(
            voice=render.voice,
            language=options.language,
            music=render.music,
            publish=None,
            callback_url=render.callback_url,
            within="render",
        )

    async def _view(self, document: Document) -> ScheduleView:
        schedule_id = document["_id"]
        items: list[ItemView] = []
        for item in document["items"]:
            if item["fired_at"] is None:
                items.append(item_view(schedule_id, item, None, None, None))
                continue
            script_id = script_id_of(schedule_id, item["item_id"])
            jobs = await self._ledger.jobs_of_video(video_id_of(schedule_id, item["item_id"]), limit=1)
            request = await self._ledger.script_request(script_id)
            script = await self._ledger.get_script(script_id)
            items.append(item_view(schedule_id, item, request, script, jobs[0] if jobs else None))
        return schedule_view(document, items)
