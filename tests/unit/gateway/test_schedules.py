"""The pure parts of schedules: due times in IANA zones across DST, cron cadences, what firing marks, the statuses
read from the ledger, and the 422s that name the field (through the API's own request validation)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.gateway_auth import as_admin_without_accounts

from reelflow.contracts import ErrorCode, ErrorInfo, JobStatus, RenderJob, Script, Step
from reelflow.gateway.app import build_api
from reelflow.gateway.schedule_bodies import ItemStatus, NewSchedule, ScheduleChange
from reelflow.gateway.schedule_status import item_status
from reelflow.gateway.schedule_timing import cron_problem, due_epoch, local_time, next_occurrence
from reelflow.gateway.schedules import (
    changed_schedule,
    fired,
    new_schedule_document,
    render_defaults_of,
    script_id_of,
    script_request_of,
)
from reelflow.gateway.store import ScriptRequestRecord, ScriptRequestState

NEW_YORK = "America/New_York"
SEOUL = "Asia/Seoul"
HOUR = 3600.0
LESSON = "# Lifting\n\nBend your knees.\n"
CHAPTERS = {"chapters": [{"chapter_id": "c", "title": "t", "scenes": [{"scene_id": "s", "narration": "n"}]}]}


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# ---- time zones and cadences ------------------------------------------------------------------------------------
def test_a_local_due_time_is_read_in_its_zone() -> None:
    assert due_epoch(datetime(2026, 12, 1, 9, 0), SEOUL) == epoch("2026-12-01T00:00:00+00:00")
    assert due_epoch(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), SEOUL) == epoch("2026-12-01T09:00:00+00:00")


def test_a_wall_clock_time_in_the_skipped_hour_is_read_with_the_offset_before_the_change() -> None:
    # 2026-03-08 02:30 does not exist in New York (02:00 EST → 03:00 EDT).
    skipped = due_epoch(datetime(2026, 3, 8, 2, 30), NEW_YORK)
    assert local_time(skipped, NEW_YORK).isoformat() == "2026-03-08T03:30:00-04:00"


def test_a_daily_cadence_keeps_its_local_hour_across_both_dst_changes() -> None:
    start = due_epoch(datetime(2026, 3, 6, 12, 0), NEW_YORK)
    spring = [start]
    for _ in range(3):
        spring.append(next_occurrence("0 9 * * *", NEW_YORK, spring[-1]))
    assert [local_time(at, NEW_YORK).hour for at in spring[1:]] == [9, 9, 9]
    assert spring[2] - spring[1] == 23 * HOUR, "the night the clocks go forward is an hour shorter"
    autumn = next_occurrence("0 9 * * *", NEW_YORK, due_epoch(datetime(2026, 10, 30, 12, 0), NEW_YORK))
    assert next_occurrence("0 9 * * *", NEW_YORK, autumn) - autumn == 25 * HOUR


def test_an_occurrence_in_a_skipped_or_repeated_hour_fires_once() -> None:
    before_spring = due_epoch(datetime(2026, 3, 7, 12, 0), NEW_YORK)
    first = next_occurrence("30 2 * * *", NEW_YORK, before_spring)
    assert local_time(first, NEW_YORK).isoformat() == "2026-03-08T03:00:00-04:00"
    assert local_time(next_occurrence("30 2 * * *", NEW_YORK, first), NEW_YORK).day == 9
    before_autumn = due_epoch(datetime(2026, 10, 31, 12, 0), NEW_YORK)
    repeated = next_occurrence("30 1 * * *", NEW_YORK, before_autumn)
    after = next_occurrence("30 1 * * *", NEW_YORK, repeated)
    assert local_time(after, NEW_YORK).day == 2, "01:30 happens twice on 1 November but fires once"


def test_the_next_occurrence_is_strictly_after_the_given_instant() -> None:
    on_the_minute = epoch("2026-12-01T09:00:00+00:00")
    assert next_occurrence("0 9 * * *", "UTC", on_the_minute) == on_the_minute + 24 * HOUR
    assert next_occurrence("0 9 * * *", "UTC", on_the_minute - 0.5) == on_the_minute


@pytest.mark.parametrize("expression", ["61 * * * *", "* * * *", "@daily", "0 9 * * * *", "0 9 31 2-13 *"])
def test_what_is_not_a_five_field_cron_expression_is_refused_with_a_reason(expression: str) -> None:
    problem = cron_problem(expression)
    assert problem is not None and repr(expression) in problem


# ---- firing -------------------------------------------------------------------------------------------------------
def items_schedule(*dues: str, **changes: Any) -> dict[str, Any]:
    body = NewSchedule.model_validate(
        {
            "name": "lessons",
            "timezone": "UTC",
            "items": [{"title": f"item {n}", "source_text": LESSON, "due_at": due} for n, due in enumerate(dues)],
            **changes,
        }
    )
    return {"_id": "sch_" + "0" * 24, **new_schedule_document(body, "ws", epoch("2026-12-01T00:00:00+00:00"))}


def recurring_schedule(created: float, queue: int = 3, cron: str = "*/10 * * * *") -> dict[str, Any]:
    body = NewSchedule.model_validate(
        {
            "name": "daily",
            "cron": cron,
            "timezone": SEOUL,
            "queue": [{"title": f"title {n}", "topic": f"topic {n}"} for n in range(queue)],
        }
    )
    return {"_id": "sch_" + "1" * 24, **new_schedule_document(body, "ws", created)}


def test_only_due_items_fire_and_firing_again_at_the_same_time_does_nothing() -> None:
    document = items_schedule("2026-12-01T09:00", "2026-12-01T10:00")
    assert document["waiting"] and document["next_due_at"] == epoch("2026-12-01T09:00:00+00:00")
    assert fired(document, epoch("2026-12-01T08:59:59+00:00")) is None
    now = epoch("2026-12-01T09:30:00+00:00")
    after = fired(document, now)
    assert after is not None
    assert [item["fired_at"] for item in after["items"]] == [now, None]
    assert after["open"] and after["next_due_at"] == epoch("2026-12-01T10:00:00+00:00")
    assert fired(after, now) is None
    last = fired(after, epoch("2026-12-02T00:00:00+00:00"))
    assert last is not None and not last["waiting"]


def test_a_paused_schedule_fires_nothing() -> None:
    document = items_schedule("2026-12-01T09:00", enabled=False)
    assert not document["waiting"]
    assert fired(document, epoch("2026-12-05T00:00:00+00:00")) is None


def test_a_cadence_that_missed_many_occurrences_fires_once_with_the_next_title() -> None:
    created = epoch("2026-12-01T00:00:00+00:00")
    document = recurring_schedule(created)
    assert document["next_due_at"] == created + 600
    three_hours_later = created + 3 * HOUR + 5
    after = fired(document, three_hours_later)
    assert after is not None
    [item] = after["items"]
    assert (item["title"], item["topic"], item["due_at"]) == ("title 0", "topic 0", created + 600)
    assert item["due_local"] == "2026-12-01T09:10" and item["timezone"] == SEOUL
    assert [title["title"] for title in after["queue"]] == ["title 1", "title 2"]
    assert after["next_due_at"] == created + 3 * HOUR + 600, "the next occurrence after now, not a missed one"
    assert fired(after, three_hours_later) is None


def test_an_occurrence_with_an_empty_queue_moves_on_without_an_item() -> None:
    created = epoch("2026-12-01T00:00:00+00:00")
    after = fired(recurring_schedule(created, queue=0), created + 700)
    assert after is not None and after["items"] == [] and after["next_due_at"] == created + 1200


# ---- what an item asks for ----------------------------------------------------------------------------------------
def test_a_topic_is_what_the_script_is_written_about_and_the_release_follows_the_due_time() -> None:
    created = epoch("2026-12-01T00:00:00+00:00")
    document = recurring_schedule(created)
    document["publish"] = {"privacy": "public", "release_after_minutes": 90, "tags": ["safety"]}
    after = fired(document, created + 601)
    assert after is not None
    [item] = after["items"]
    request = script_request_of(after, item)
    assert (request.title, request.source_text, request.auto_render) == ("topic 0", "", False)
    publish = render_defaults_of(after, item).publish
    assert publish is not None and publish.title == "title 0" and publish.tags == ["safety"]
    assert publish.publish_at == datetime.fromtimestamp(created + 600 + 90 * 60, UTC)


def test_the_script_id_is_derived_from_the_schedule_and_the_item() -> None:
    assert script_id_of("sch_a", "i1") == script_id_of("sch_a", "i1")
    assert len({script_id_of("sch_a", "i1"), script_id_of("sch_a", "i2"), script_id_of("sch_b", "i1")}) == 3


# ---- statuses -------------------------------------------------------------------------------------------------------
def fired_item() -> dict[str, Any]:
    document = items_schedule("2026-12-01T09:00")
    after = fired(document, epoch("2026-12-01T09:00:00+00:00"))
    assert after is not None
    item: dict[str, Any] = after["items"][0]
    return item


def script(status: str) -> Script:
    return Script.model_validate(
        {
            "script_id": "s",
            "video_id": "v",
            "status": status,
            "title": "t",
            "script": {
                "chapters": [{"chapter_id": "c", "title": "t", "scenes": [{"scene_id": "s", "narration": "n"}]}]
            },
            "created_at": datetime.now(UTC),
        }
    )


def job(
    status: JobStatus, step: Step | None = None, publish: bool = False, error: ErrorInfo | None = None
) -> RenderJob:
    at = datetime.now(UTC)
    spec = {
        "template": "lesson",
        "script": {"chapters": [{"chapter_id": "c", "title": "t", "scenes": [{"scene_id": "s", "narration": "n"}]}]},
        "publish": {"title": "t"} if publish else None,
    }
    return RenderJob.model_validate(
        {"job_id": "j", "video_id": "v", "status": status, "step": step, "spec": spec, "error": error}
        | {"created_at": at, "updated_at": at}
    )


PENDING = ScriptRequestRecord(ScriptRequestState.PENDING, None, "v")
NO_LLM = ErrorInfo(code=ErrorCode.LLM_FAILED, message="a topic-only request needs the LLM writer")


@pytest.mark.parametrize(
    ("request_record", "written", "rendering", "expected"),
    [
        (None, None, None, ItemStatus.SCRIPT_PROCESSING),
        (PENDING, None, None, ItemStatus.SCRIPT_PROCESSING),
        (PENDING, script("DRAFT"), None, ItemStatus.WAITING_REVIEW),
        (PENDING, script("APPROVED"), None, ItemStatus.IMAGE_PROCESSING),
        (PENDING, script("APPROVED"), job(JobStatus.QUEUED), ItemStatus.IMAGE_PROCESSING),
        (PENDING, script("APPROVED"), job(JobStatus.PROCESSING, Step.RENDER_SLIDES), ItemStatus.IMAGE_PROCESSING),
        (PENDING, script("APPROVED"), job(JobStatus.PROCESSING, Step.COMPOSE_VIDEO), ItemStatus.VIDEO_PROCESSING),
        (PENDING, script("APPROVED"), job(JobStatus.PROCESSING, Step.UPLOAD_ASSETS), ItemStatus.VIDEO_PROCESSING),
        (PENDING, script("APPROVED"), job(JobStatus.PROCESSING, Step.UPLOAD_ASSETS, True), ItemStatus.VIDEO_PROCESSING),
        (PENDING, script("APPROVED"), job(JobStatus.PROCESSING, Step.PUBLISH, True), ItemStatus.YOUTUBE_PROCESSING),
        (PENDING, script("APPROVED"), job(JobStatus.PROCESSING, Step.FINALIZE, True), ItemStatus.YOUTUBE_PROCESSING),
        (PENDING, script("APPROVED"), job(JobStatus.PROCESSING, Step.FINALIZE), ItemStatus.VIDEO_PROCESSING),
        (PENDING, script("APPROVED"), job(JobStatus.COMPLETED, Step.FINALIZE), ItemStatus.COMPLETED),
    ],
)
def test_an_items_status_is_read_from_its_script_request_script_and_job(
    request_record: ScriptRequestRecord | None,
    written: Script | None,
    rendering: RenderJob | None,
    expected: ItemStatus,
) -> None:
    assert item_status(fired_item(), request_record, written, rendering) == (expected, None)


def test_an_item_not_fired_is_scheduled_and_a_failure_carries_its_code() -> None:
    unfired = items_schedule("2026-12-01T09:00")["items"][0]
    assert item_status(unfired, None, None, None) == (ItemStatus.SCHEDULED, None)
    failed_request = ScriptRequestRecord(ScriptRequestState.FAILED, NO_LLM, "v")
    status, error = item_status(fired_item(), failed_request, None, None)
    assert status == ItemStatus.FAILED and error is not None and error.code == "LLM_FAILED"
    render_error = ErrorInfo(code=ErrorCode.TTS_FAILED, message="espeak-ng died")
    status, error = item_status(fired_item(), PENDING, script("APPROVED"), job(JobStatus.FAILED, error=render_error))
    assert (
        status == ItemStatus.FAILED
        and error is not None
        and (error.code, error.message)
        == (
            "TTS_FAILED",
            "espeak-ng died",
        )
    )


# ---- changes --------------------------------------------------------------------------------------------------------
def test_a_fired_item_cannot_be_removed_and_a_cadence_cannot_be_given_to_single_items() -> None:
    document = fired(items_schedule("2026-12-01T09:00"), epoch("2026-12-01T09:00:00+00:00"))
    assert document is not None
    item_id = document["items"][0]["item_id"]
    with pytest.raises(ValueError, match=r"^remove_items: .*fired already"):
        changed_schedule(document, ScheduleChange(remove_items=[item_id]), 0.0)
    with pytest.raises(ValueError, match=r"^cron: "):
        changed_schedule(document, ScheduleChange(cron="0 9 * * *"), 0.0)


def test_a_new_cadence_counts_from_now() -> None:
    created = epoch("2026-12-01T00:00:00+00:00")
    now = created + 5 * HOUR
    changed = changed_schedule(recurring_schedule(created), ScheduleChange(cron="0 * * * *"), now)
    assert changed["next_due_at"] == created + 6 * HOUR


# ---- 422s through the API's request validation ----------------------------------------------------------------------
@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = build_api()
    app.state.gateway = SimpleNamespace(schedules=None, access=None)
    as_admin_without_accounts(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        yield client


ITEM = {"title": "Lifting", "source_text": LESSON, "due_at": "2026-12-01T09:00"}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"items": [{**ITEM, "timezone": "Asia/Sooul"}]}, "items.0.timezone", "'Asia/Sooul' is not an IANA time zone"),
        ({"timezone": "Mars/Base", "items": [ITEM]}, "timezone", "not an IANA time zone"),
        ({"cron": "0 25 * * *", "queue": [{"title": "a", "topic": "b"}]}, "cron", "not a valid cron expression"),
        ({"cron": "daily", "queue": []}, "cron", "5-field cron expression"),
        ({"items": [{**ITEM, "source_text": ""}]}, "items.0", "source_text"),
        ({"items": [{**ITEM, "topic": "safety"}]}, "items.0", "not both"),
        ({}, "body", "give single `items`"),
        ({"items": [ITEM], "render": {"publish": {"title": "x"}}}, "render", "schedule's `publish`"),
    ],
)
async def test_an_invalid_schedule_is_a_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, words: str
) -> None:
    response = await client.post("/api/schedules", json={"name": "lessons", **body})
    assert response.status_code == 422, response.text
    problems = response.json()["error"]["details"]["problems"]
    assert any(problem["field"] == field and words in problem["problem"] for problem in problems), problems


async def test_a_change_with_an_unknown_zone_is_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.patch(f"/api/schedules/sch_{'0' * 24}", json={"timezone": "Europe/Berln"})
    assert response.status_code == 422, response.text
    [problem] = response.json()["error"]["details"]["problems"]
    assert problem["field"] == "timezone"
