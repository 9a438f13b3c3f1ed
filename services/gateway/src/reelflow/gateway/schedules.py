"""Schedules (channel automation): the pure rules of a schedule's MongoDB document.

A schedule is either a list of single items (a title with its lesson text or topic, due at a local time in its
zone) or a recurring cron cadence that takes the next title from a queue at each occurrence. At the due time the
scheduler (``scheduler``) *fires* the item: it marks it fired in the schedule's document (a compare-and-swap, so it
happens once whichever replica gets there), then asks for its script under an id derived from the schedule and
the item, so the request too is made once even when a replica dies in between and the next one completes it.

An item's status is not kept here: it is read from the ledger each time (``schedule_status``). The request bodies
and views are in ``schedule_bodies``.
"""

import uuid

from reelflow.contracts import RenderDefaults, ScriptOptions
from reelflow.gateway.schedule_bodies import (
    MAX_ITEMS,
    MAX_SCHEDULE_SOURCE_CHARS,
    TOO_MUCH_TEXT,
    Document,
    NewItem,
    NewSchedule,
    PublishPlan,
    QueuedTitle,
    ScheduleChange,
    ScheduleKind,
    source_chars,
)
from reelflow.gateway.schedule_timing import due_epoch, local_time, next_occurrence, zone_of
from reelflow.gateway.script_commands import GenerateScript

ITEM_NAMESPACE = uuid.UUID("0d3b8f4e-51c2-4a8e-b7f1-2f6f1d9a3c55")


def new_schedule_id() -> str:
    return f"sch_{uuid.uuid4().hex[:24]}"


def script_id_of(schedule_id: str, item_id: str) -> str:
    """The script an item asks for, derived from the schedule and the item so asking twice is asking once."""
    return uuid.uuid5(ITEM_NAMESPACE, f"{schedule_id}/{item_id}").hex


def video_id_of(schedule_id: str, item_id: str) -> str:
    return f"{schedule_id}.{item_id}"


def _title_document(title: QueuedTitle) -> Document:
    return {"title": title.title, "source_text": title.source_text, "topic": title.topic}


def item_document(item: NewItem, default_zone: str) -> Document:
    zone = item.timezone or default_zone
    local = item.due_at if item.due_at.tzinfo is None else item.due_at.astimezone(zone_of(zone))
    return {
        "item_id": uuid.uuid4().hex[:12],
        **_title_document(item),
        "due_local": local.replace(tzinfo=None).isoformat(timespec="minutes"),
        "timezone": zone,
        "due_at": due_epoch(item.due_at, zone),
        "fired_at": None,
        "open": False,
        "job_id": None,
        "error": None,
    }


def new_schedule_document(body: NewSchedule, workspace_id: str, now: float) -> Document:
    kind = ScheduleKind.RECURRING if body.cron is not None else ScheduleKind.ITEMS
    document: Document = {
        "workspace_id": workspace_id,
        "name": body.name,
        "kind": kind.value,
        "timezone": body.timezone,
        "cron": body.cron,
        "enabled": body.enabled,
        "auto_approve": body.auto_approve,
        "options": body.options.model_dump(mode="json"),
        "render": body.render.model_dump(mode="json"),
        "publish": body.publish.model_dump(mode="json") if body.publish else None,
        "queue": [_title_document(title) for title in body.queue],
        "items": [item_document(item, body.timezone) for item in body.items],
        "next_occurrence_at": next_occurrence(body.cron, body.timezone, now) if body.cron else None,
        "created_at": now,
        "updated_at": now,
    }
    return with_due_marks(document)


def with_due_marks(document: Document) -> Document:
    """The document with the fields the scheduler queries by: ``waiting`` (something will fire) and
    ``next_due_at`` (when), and ``open`` (a fired item still needs the scheduler: its request or its render)."""
    dues = [item["due_at"] for item in document["items"] if item["fired_at"] is None]
    if document.get("next_occurrence_at") is not None:
        dues.append(document["next_occurrence_at"])
    waiting = bool(document["enabled"]) and bool(dues)
    return {
        **document,
        "waiting": waiting,
        "next_due_at": min(dues) if dues else 0.0,
        "open": any(item["open"] for item in document["items"]),
    }


def fired(document: Document, now: float) -> Document | None:
    """The document with every item due at ``now`` marked fired, or None when nothing is due.

    A recurring schedule fires at most once per call however many occurrences passed (a gateway that was down
    fires a missed cadence once), taking the next queued title; an occurrence with an empty queue only moves on.
    """
    if not document["enabled"]:
        return None
    items = [dict(item) for item in document["items"]]
    changed = False
    for item in items:
        if item["fired_at"] is None and item["due_at"] <= now:
            item.update(fired_at=now, open=True)
            changed = True
    queue = list(document["queue"])
    occurrence = document.get("next_occurrence_at")
    next_at = occurrence
    if document["cron"] and occurrence is not None and occurrence <= now:
        changed = True
        next_at = next_occurrence(document["cron"], document["timezone"], now)
        if queue:
            title = queue.pop(0)
            zone = document["timezone"]
            items.append(
                {
                    "item_id": f"r{int(occurrence)}",
                    **title,
                    "due_local": local_time(occurrence, zone).replace(tzinfo=None).isoformat(timespec="minutes"),
                    "timezone": zone,
                    "due_at": occurrence,
                    "fired_at": now,
                    "open": True,
                    "job_id": None,
                    "error": None,
                }
            )
    if not changed:
        return None
    return with_due_marks({**document, "items": items, "queue": queue, "next_occurrence_at": next_at})


def with_item(document: Document, item_id: str, changes: Document) -> Document:
    items = [{**item, **changes} if item["item_id"] == item_id else item for item in document["items"]]
    return with_due_marks({**document, "items": items})


def changed_schedule(document: Document, change: ScheduleChange, now: float) -> Document:
    """The document after a PATCH; refusals are ValueErrors naming the field (``field: problem``)."""
    recurring = document["kind"] == ScheduleKind.RECURRING
    given = change.model_fields_set
    updated = dict(document)
    for name in ("name", "enabled", "auto_approve"):
        if name in given and getattr(change, name) is not None:
            updated[name] = getattr(change, name)
    if "options" in given and change.options is not None:
        updated["options"] = change.options.model_dump(mode="json")
    if "render" in given and change.render is not None:
        updated["render"] = change.render.model_dump(mode="json")
    if "publish" in given:
        updated["publish"] = change.publish.model_dump(mode="json") if change.publish else None
    if "timezone" in given and change.timezone is not None:
        updated["timezone"] = change.timezone
    if not recurring and (change.cron is not None or change.queue is not None):
        raise ValueError("cron: this schedule is single items; make a recurring schedule for a cadence")
    if recurring and (change.add_items or change.remove_items):
        raise ValueError("add_items: this schedule is a cron cadence; change its queue instead")
    if change.cron is not None:
        updated["cron"] = change.cron
    if change.queue is not None:
        updated["queue"] = [_title_document(title) for title in change.queue]
    if recurring and {"cron", "timezone", "enabled"} & given:
        # The cadence starts again from now: a new cadence (or a paused one) fires nothing it would have earlier.
        updated["next_occurrence_at"] = next_occurrence(updated["cron"], updated["timezone"], now)
    items = list(document["items"])
    if change.remove_items:
        known = {item["item_id"]: item for item in items}
        for item_id in change.remove_items:
            if item_id not in known:
                raise ValueError(f"remove_items: the schedule has no item {item_id!r}")
            if known[item_id]["fired_at"] is not None:
                raise ValueError(f"remove_items: item {item_id!r} has fired already; its video stays in the library")
        items = [item for item in items if item["item_id"] not in set(change.remove_items)]
    if len(items) + len(change.add_items) > MAX_ITEMS:
        raise ValueError(f"add_items: a schedule holds at most {MAX_ITEMS} items")
    items += [item_document(item, updated["timezone"]) for item in change.add_items]
    if source_chars([*items, *updated["queue"]]) > MAX_SCHEDULE_SOURCE_CHARS:
        raise ValueError(f"add_items: {TOO_MUCH_TEXT}")
    return with_due_marks({**updated, "items": items, "updated_at": now})


# ---- what firing asks for ----------------------------------------------------------------------------------------
def render_defaults_of(document: Document, item: Document) -> RenderDefaults:
    """How the item's video is rendered, with its YouTube target (its release from the item's due time)."""
    render = RenderDefaults.model_validate(document["render"])
    plan = document.get("publish")
    if plan is None:
        return render
    target = PublishPlan.model_validate(plan).target_for(item["title"], item["due_at"])
    return render.model_copy(update={"publish": target})


def script_request_of(document: Document, item: Document) -> GenerateScript:
    """The script request an item makes: from its lesson text, or (the LLM writer) about its topic."""
    topic = item.get("topic") or ""
    return GenerateScript(
        source_text=item.get("source_text") or "",
        title=topic if topic and not (item.get("source_text") or "").strip() else item["title"],
        options=ScriptOptions.model_validate(document["options"]),
        auto_render=bool(document["auto_approve"]),
        render_defaults=render_defaults_of(document, item),
    )
