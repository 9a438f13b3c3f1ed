"""MongoDB persistence of schedules, and the lease that lets one gateway replica at a time run the scheduler.

Each schedule is one document, rewritten whole with a compare-and-swap on its revision (``store.rewrite_document``),
so marking an item fired happens once whichever replica tries. The lease is one document naming its holder and
until when it holds (epoch seconds, see ``stored_times``): a holder renews it on every pass; another replica takes
it only once it has run out, so a replica that died gives the scheduler up after one lease length.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from reelflow.gateway.store import rewrite_document

Document = dict[str, Any]
SCHEDULES = "schedules"
LEASES = "scheduler_leases"
SCHEDULER_LEASE = "scheduler"


@dataclass(frozen=True)
class Lease:
    holder: str
    until: float


class ScheduleStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        db = client[database]
        self._schedules = db[SCHEDULES]
        self._leases = db[LEASES]

    async def ensure_indexes(self) -> None:
        await self._schedules.create_index([("workspace_id", 1), ("created_at", 1)])
        await self._schedules.create_index([("waiting", 1), ("next_due_at", 1)])
        await self._schedules.create_index([("open", 1)])

    # ---- schedules --------------------------------------------------------------------------------------------
    async def insert(self, schedule_id: str, document: Document) -> None:
        await self._schedules.insert_one({"_id": schedule_id, "rev": 0, **document})

    async def get(self, schedule_id: str) -> Document | None:
        return await self._schedules.find_one({"_id": schedule_id})

    async def of_workspace(self, workspace_id: str, limit: int) -> list[Document]:
        cursor = self._schedules.find({"workspace_id": workspace_id}).sort("created_at", 1).limit(limit)
        return [document async for document in cursor]

    async def due(self, now: float, limit: int) -> list[Document]:
        """Schedules with something to fire at ``now``, soonest first."""
        query = {"waiting": True, "next_due_at": {"$lte": now}}
        cursor = self._schedules.find(query).sort("next_due_at", 1).limit(limit)
        return [document async for document in cursor]

    async def open(self, limit: int) -> list[Document]:
        """Schedules with fired items the scheduler still follows (their script request, or their render)."""
        return [document async for document in self._schedules.find({"open": True}).limit(limit)]

    async def rewrite(self, schedule_id: str, change: Callable[[Document], Document | None]) -> Document | None:
        """Replace the schedule with ``change(current)`` (None: leave it) until the write lands; returns it with its
        id as it now stands, or None when there is no such schedule. ``change`` may run more than once."""

        def rewritten(current: Document | None) -> Document | None:
            if current is None:
                return None
            changed = change({key: value for key, value in current.items() if key != "rev"})
            return None if changed is None else {key: value for key, value in changed.items() if key != "_id"}

        document, _ = await rewrite_document(self._schedules, schedule_id, rewritten)
        if document is None:
            return None
        return {**document, "_id": schedule_id}

    async def delete(self, schedule_id: str) -> None:
        await self._schedules.delete_one({"_id": schedule_id})

    # ---- the scheduler's lease --------------------------------------------------------------------------------
    async def hold_lease(self, holder: str, *, now: float, until: float) -> bool:
        """Take or renew the scheduler's lease for ``holder`` until ``until``; False while another holds it."""
        current = await self._leases.find_one({"_id": SCHEDULER_LEASE})
        lease = {"holder": holder, "until": until}
        if current is None:
            try:
                await self._leases.insert_one({"_id": SCHEDULER_LEASE, "rev": 0, **lease})
            except DuplicateKeyError:
                return False
            return True
        if current["holder"] != holder and float(current["until"]) > now:
            return False
        revision = int(current.get("rev") or 0)
        result = await self._leases.replace_one(
            {"_id": SCHEDULER_LEASE, "rev": revision}, {"rev": revision + 1, **lease}
        )
        return result.matched_count == 1

    async def release_lease(self, holder: str) -> None:
        """Give the lease up at shutdown, so another replica need not wait for it to run out."""
        current = await self._leases.find_one({"_id": SCHEDULER_LEASE})
        if current is not None and current["holder"] == holder:
            revision = int(current.get("rev") or 0)
            await self._leases.replace_one(
                {"_id": SCHEDULER_LEASE, "rev": revision}, {"rev": revision + 1, "holder": holder, "until": 0.0}
            )

    async def lease(self) -> Lease | None:
        current = await self._leases.find_one({"_id": SCHEDULER_LEASE})
        return Lease(current["holder"], float(current["until"])) if current else None
