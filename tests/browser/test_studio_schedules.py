"""The schedules page: a person schedules one video due now and one due tomorrow, sees the first written and
waiting for review (with a link to review it) and the second scheduled, then opens the page in Korean."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import StudioPages
from tests.browser.studio_flows import api_get, sign_in
from tests.gateway_jobs import TINY_LESSON

pytestmark = [pytest.mark.connected, pytest.mark.browser]


def local_minute(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def schedule_one(page: Page, title: str, due: datetime) -> None:
    page.fill("#new-item input[name=title]", title)
    page.fill("#new-item textarea[name=source_text]", TINY_LESSON)
    page.fill("#new-item input[name=due_at]", local_minute(due))
    page.fill("#new-item input[name=timezone]", "UTC")
    page.select_option("#new-item select[name=language]", "en")
    page.click("#new-item button[type=submit]")


def test_a_person_schedules_videos_and_sees_their_statuses(studio: StudioPages, unique_id: str) -> None:
    page = studio.new_page()
    sign_in(page)
    page.goto("/studio/schedules")
    expect(page.locator("h1")).to_have_text("Schedules")
    now = datetime.now(UTC)
    due_now, due_tomorrow = f"Due now {unique_id}", f"Tomorrow {unique_id}"
    schedule_one(page, due_now, now - timedelta(minutes=1))
    expect(page.locator(".schedule", has_text=due_now)).to_be_visible()
    schedule_one(page, due_tomorrow, now + timedelta(days=1))
    tomorrow_row = page.locator(".schedule", has_text=due_tomorrow).locator("tbody tr")
    expect(tomorrow_row).to_have_attribute("data-status", "scheduled")
    expect(tomorrow_row.locator(".badge")).to_have_text("Scheduled")

    waiting = page.locator(".schedule", has_text=due_now).locator("tbody tr")
    expect(waiting).to_have_attribute("data-status", "waiting_review", timeout=45_000)
    expect(waiting.locator("a", has_text="Review the script")).to_be_visible()
    studio.snap(page, "schedules")

    status, schedules = api_get(page, "/api/schedules")
    assert status == 200
    [item] = [schedule["items"][0] for schedule in schedules if schedule["name"] == due_now]
    assert item["status"] == "waiting_review" and item["timezone"] == "UTC"
    href = waiting.locator("a", has_text="Review the script").get_attribute("href")
    assert href == f"/studio/scripts/{item['script_id']}"

    korean = studio.new_page(locale="ko-KR")
    sign_in(korean)
    korean.goto("/studio/schedules")
    expect(korean.locator("h1")).to_have_text("예약")
    expect(korean.locator(".schedule", has_text=due_tomorrow).locator(".badge-scheduled")).to_have_text("예약됨")
    studio.snap(korean, "schedules-ko")
